import { i2cPresent, openHardwareI2c } from '../../firmware-bridge/i2c-hardware.ts';
import { Max30102Emulator } from '../../firmware-bridge/max30102/emulator.ts';
import { constantSource } from './helpers.ts';
import { i2cBusContract } from './i2c-bus.contract.ts';

i2cBusContract('emulator', async () => new Max30102Emulator({ source: constantSource() }));

const hw = process.env.VIGIL_HARDWARE_TESTS === '1' && i2cPresent(1);
i2cBusContract('i2c-bus on /dev/i2c-1', () => openHardwareI2c(1), {
  skip: hw ? false : 'needs a Pi with a MAX30102 and VIGIL_HARDWARE_TESTS=1',
});
