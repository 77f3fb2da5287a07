import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyI2cError } from '../../firmware-bridge/i2c.ts';
import { i2cPresent, openHardwareI2c } from '../../firmware-bridge/i2c-hardware.ts';
import { Max30102Emulator } from '../../firmware-bridge/max30102/emulator.ts';
import { constantSource } from './helpers.ts';
import { i2cBusContract } from './i2c-bus.contract.ts';

i2cBusContract('emulator', async () => new Max30102Emulator({ source: constantSource() }));

const hw = process.env.VIGIL_HARDWARE_TESTS === '1' && i2cPresent(1);
i2cBusContract('i2c-bus on /dev/i2c-1', () => openHardwareI2c(1), {
  skip: hw ? false : 'needs a Pi with a MAX30102 and VIGIL_HARDWARE_TESTS=1',
});

describe('I2C error classification', () => {
  test('i2c-dev errnos map to what went wrong, naming the register', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(classifyI2cError(e('EIO'), 7).failure, 'EIO');
    assert.equal(classifyI2cError(e('ENXIO')).failure, 'NACK');
    assert.equal(classifyI2cError(e('EREMOTEIO')).failure, 'NACK');
    assert.equal(classifyI2cError(e('ETIMEDOUT')).failure, 'TIMEOUT');
    assert.equal(classifyI2cError(e('EBUSY')).failure, 'OTHER');
    assert.match(classifyI2cError(e('EIO'), 7).message, /I2C EIO at register 0x07/);
  });
});
