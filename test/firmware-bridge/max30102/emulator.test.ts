import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../firmware-bridge/clock.ts';
import { Max30102Emulator } from '../../../firmware-bridge/max30102/emulator.ts';
import { INT1, INT2, MODE, PART_ID_VALUE, REG, TEMP_EN } from '../../../firmware-bridge/max30102/registers.ts';
import { A, configure, constantSource, emulator, readSamples } from '../helpers.ts';

describe('emulator register file', () => {
  test('power-on values: PART_ID 0x15, PWR_RDY set and INT low until status 1 is read, which clears it', async () => {
    const { emu } = emulator();
    assert.equal(await emu.readByte(A, REG.PART_ID), PART_ID_VALUE);
    assert.equal(emu.int.value, 0);
    assert.equal(await emu.readByte(A, REG.INT_STATUS_1), INT1.PWR_RDY);
    assert.equal(await emu.readByte(A, REG.INT_STATUS_1), 0);
    assert.equal(emu.int.value, 1);
    for (const reg of [REG.FIFO_CONFIG, REG.MODE_CONFIG, REG.SPO2_CONFIG, REG.LED1_PA, REG.LED2_PA, REG.FIFO_WR_PTR]) {
      assert.equal(await emu.readByte(A, reg), 0, `register 0x${reg.toString(16)}`);
    }
  });

  test('soft reset returns registers to power-on values and RESET clears itself', async () => {
    const { emu, clock } = emulator();
    await configure(emu);
    await emu.writeByte(A, REG.MODE_CONFIG, MODE.RESET);
    assert.equal((await emu.readByte(A, REG.MODE_CONFIG)) & MODE.RESET, MODE.RESET);
    await clock.advance(2);
    assert.equal(await emu.readByte(A, REG.MODE_CONFIG), 0);
    assert.equal(await emu.readByte(A, REG.SPO2_CONFIG), 0);
    assert.equal(await emu.readByte(A, REG.LED2_PA), 0);
  });

  test('burst reads auto-increment the register address, except at FIFO_DATA', async () => {
    const { emu, clock } = emulator();
    await configure(emu, { rate: 100 });
    await clock.advance(50); // 5 samples
    const head = (await emu.readI2cBlock(A, REG.FIFO_WR_PTR, 3, Buffer.alloc(3))).buffer;
    assert.deepEqual([...head], [5, 0, 0]); // WR_PTR, OVF_COUNTER, RD_PTR
    const data = (await emu.readI2cBlock(A, REG.FIFO_DATA, 12, Buffer.alloc(12))).buffer;
    assert.equal(await emu.readByte(A, REG.FIFO_RD_PTR), 2, 'two whole samples popped');
    // Both samples hold FIFO words, not the registers after 0x07.
    assert.equal(((data[0]! << 16) | (data[1]! << 8) | data[2]!) & 0x3ffff, 100000);
    assert.equal(((data[9]! << 16) | (data[10]! << 8) | data[11]!) & 0x3ffff, 150000);
  });

  test('block reads longer than 32 bytes are refused like SMBus', async () => {
    const { emu } = emulator();
    await assert.rejects(emu.readI2cBlock(A, REG.FIFO_DATA, 33, Buffer.alloc(33)), RangeError);
  });

  test('read-only registers ignore writes', async () => {
    const { emu } = emulator();
    await emu.writeByte(A, REG.PART_ID, 0x00);
    assert.equal(await emu.readByte(A, REG.PART_ID), PART_ID_VALUE);
  });
});

describe('emulator FIFO', () => {
  test('fills at the configured rate in emulated time, with junk in bits 23:18', async () => {
    const { emu, clock } = emulator();
    await configure(emu, { rate: 400 });
    await clock.advance(100);
    assert.equal(emu.peek().unread, 32); // 40 due, the FIFO holds 32
    assert.equal(emu.peek().ovf, 8);
    const s = await readSamples(emu, 32);
    assert.ok(s.every((x) => x.red === 100000 && x.ir === 150000));
    assert.ok(
      s.some((x) => x.rawRed > 0x3ffff),
      'upper bits carry junk the driver must mask',
    );
  });

  test('pointers roll over modulo 32 and OVF_COUNTER saturates at 31, cleared by popping a sample', async () => {
    const { emu, clock } = emulator();
    await configure(emu, { rate: 100 });
    await clock.advance(300); // 30 samples
    await readSamples(emu, 30);
    await clock.advance(100); // 10 more: WR wraps past 31
    const p = emu.peek();
    assert.equal(p.wr, 40 % 32);
    assert.equal(p.rd, 30);
    assert.equal(p.unread, 10);
    await clock.advance(1000); // 100 more: full, 78 lost → saturates
    assert.equal(emu.peek().unread, 32);
    assert.equal(emu.peek().ovf, 31);
    await readSamples(emu, 1);
    assert.equal(emu.peek().ovf, 0);
  });

  test('without rollover a full FIFO keeps the oldest samples; with rollover it keeps the newest', async () => {
    const ramp = (tS: number) => ({ red: Math.round(tS * 1000), ir: 1 });
    for (const rollover of [false, true]) {
      const { emu, clock } = emulator(constantSource(0, 0, ramp));
      await configure(emu, { rate: 100, rollover });
      await clock.advance(500); // 50 samples, at 10, 20, … 500 ms
      const s = await readSamples(emu, 32);
      if (!rollover) assert.equal(s[0]!.red, 10);
      else assert.equal(s[31]!.red, 500);
      assert.equal(emu.stats.samplesLost, 18);
    }
  });

  test('A_FULL drives INT low at the almost-full level with nobody polling; reading status releases it', async () => {
    const { emu, clock } = emulator();
    await emu.readByte(A, REG.INT_STATUS_1); // clear PWR_RDY
    await emu.writeByte(A, REG.INT_ENABLE_1, INT1.A_FULL);
    await configure(emu, { rate: 100, aFull: 15 }); // fires with 17 unread
    const edges: number[] = [];
    emu.int.watch(() => edges.push(clock.now()));
    await clock.advance(165);
    assert.equal(emu.int.value, 1);
    await clock.advance(10);
    assert.equal(emu.int.value, 0);
    assert.deepEqual(edges, [170]);
    assert.equal((await emu.readByte(A, REG.INT_STATUS_1)) & INT1.A_FULL, INT1.A_FULL);
    assert.equal(emu.int.value, 1);
  });

  test('LED current and ADC range scale the light; the pulse width sets the resolution', async () => {
    const { emu, clock } = emulator(constantSource(100001, 150001));
    await configure(emu, { rate: 100, pw: 69, range: 8192 });
    await emu.writeByte(A, REG.LED2_PA, 0x40); // 12.8 mA: twice the reference
    await clock.advance(10);
    const [s] = await readSamples(emu, 1);
    // red: 100001 · 4096/8192 = 50000.5 → 50001 → 15-bit: low 3 bits cleared
    assert.equal(s!.red, 50001 & ~7);
    assert.equal(s!.ir, 150001 & ~7);
  });

  test('samples clip at full scale', async () => {
    const { emu, clock } = emulator(constantSource(200000, 200000));
    await configure(emu);
    await emu.writeByte(A, REG.LED1_PA, 0xff);
    await clock.advance(10);
    const [s] = await readSamples(emu, 1);
    assert.equal(s!.red, 0x3ffff);
  });

  test('shutdown stops sampling', async () => {
    const { emu, clock } = emulator();
    await configure(emu);
    await emu.writeByte(A, REG.MODE_CONFIG, MODE.SHDN | MODE.SPO2);
    await clock.advance(500);
    assert.equal(emu.peek().unread, 0);
  });
});

describe('emulator die temperature', () => {
  test('TEMP_EN starts a conversion that clears itself and raises DIE_TEMP_RDY', async () => {
    const clock = new VirtualClock();
    const emu = new Max30102Emulator({ source: constantSource(), clock, dieTempC: -3.5 });
    await emu.writeByte(A, REG.TEMP_CONFIG, TEMP_EN);
    assert.equal(await emu.readByte(A, REG.TEMP_CONFIG), TEMP_EN);
    await clock.advance(30);
    assert.equal(await emu.readByte(A, REG.TEMP_CONFIG), 0);
    assert.equal(await emu.readByte(A, REG.INT_STATUS_2), INT2.DIE_TEMP_RDY);
    assert.equal(await emu.readByte(A, REG.TEMP_INT), 0xfc); // −4 in two's complement
    assert.equal(await emu.readByte(A, REG.TEMP_FRAC), 8); // + 8 · 0.0625 = −3.5
  });
});

describe('emulator fault injection', () => {
  test('absent device and chosen registers NACK with ENXIO; EIO registers fail with EIO', async () => {
    const { emu } = emulator();
    emu.inject({ absent: true });
    await assert.rejects(emu.readByte(A, REG.PART_ID), { code: 'ENXIO' });
    emu.inject({ nackRegisters: [REG.FIFO_DATA], eioRegisters: [REG.SPO2_CONFIG] });
    await assert.rejects(emu.readI2cBlock(A, REG.FIFO_DATA, 6, Buffer.alloc(6)), { code: 'ENXIO' });
    await assert.rejects(emu.writeByte(A, REG.SPO2_CONFIG, 1), { code: 'EIO' });
    assert.equal(await emu.readByte(A, REG.PART_ID), PART_ID_VALUE);
    await assert.rejects(emu.readByte(0x58, REG.PART_ID), { code: 'ENXIO' }, 'wrong address');
  });

  test('wrong PART_ID, transient failures, stuck FIFO, hung bus', async () => {
    const { emu, clock } = emulator();
    emu.inject({ partId: 0x11 });
    assert.equal(await emu.readByte(A, REG.PART_ID), 0x11);
    emu.inject({ failNext: 2 });
    await assert.rejects(emu.readByte(A, REG.PART_ID));
    await assert.rejects(emu.readByte(A, REG.PART_ID));
    assert.equal(await emu.readByte(A, REG.PART_ID), PART_ID_VALUE);
    await configure(emu);
    emu.inject({ stuckFifo: true });
    await clock.advance(1000);
    assert.equal(emu.peek().wr, 0);
    assert.equal(emu.peek().ovf, 0);
    emu.inject({ hungBus: true });
    let settled = false;
    emu.readByte(A, REG.PART_ID).then(
      () => (settled = true),
      () => (settled = true),
    );
    await clock.advance(10_000);
    assert.equal(settled, false);
  });
});
