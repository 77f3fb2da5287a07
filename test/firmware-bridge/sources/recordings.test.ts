import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadRecording, parseCsvRecording, RecordingError, resample } from '../../../firmware-bridge/sources/recordings.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-recordings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}
const fixtures = fileURLToPath(new URL('../../fixtures/recordings/', import.meta.url));

/** A pulse-like series around `dc` so start-up trimming has a steady reference to compare with. */
function steady(n: number, dc: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(dc + 300 * Math.sin(i / 3)));
}

describe('resample', () => {
  test('interpolates linearly onto a uniform grid starting at the first time', () => {
    const out = resample([0, 10, 30, 40], [0, 10, 30, 40], 100);
    assert.deepEqual([...out], [0, 10, 20, 30, 40]);
  });
  test('keeps the later value when a time repeats', () => {
    const out = resample([0, 10, 10, 20], [0, 5, 7, 9], 100);
    assert.deepEqual([...out], [0, 7, 9]);
  });
  test('refuses times that go backwards', () => {
    assert.throws(() => resample([0, 10, 5], [1, 2, 3], 100), /backwards at sample 3/);
  });
  test('refuses mismatched lengths and a bad rate', () => {
    assert.throws(() => resample([0, 1], [1], 100), RecordingError);
    assert.throws(() => resample([0, 1], [1, 2], 0), RecordingError);
  });
});

describe('parseCsvRecording (the plain time_ms,red,ir format)', () => {
  test('reads columns in any order and case, ignoring the others', () => {
    const r = parseCsvRecording('IR,note,Red\n10,a,20\n11,b,21\n', { rateHz: 50 });
    assert.equal(r.rateHz, 50);
    assert.deepEqual([...r.ir!], [10, 11]);
    assert.deepEqual([...r.red!], [20, 21]);
    assert.equal(r.meta.format, 'csv');
  });
  test('accepts a single channel', () => {
    const r = parseCsvRecording('ir\n1\n2\n3\n', { rateHz: 25 });
    assert.equal(r.red, undefined);
    assert.equal(r.ir!.length, 3);
  });
  test('without time_ms the rate must be given', () => {
    assert.throws(() => parseCsvRecording('red,ir\n1,2\n'), /no time column.*--rate HZ/);
  });
  test('irregular time_ms is resampled to the median rate', () => {
    // Steps of 10 ms with one late sample (15 ms): median 10 ms → 100 Hz.
    const r = parseCsvRecording('time_ms,ir\n0,0\n10,10\n20,20\n35,35\n40,40\n50,50\n');
    assert.equal(r.rateHz, 100);
    assert.deepEqual([...r.ir!], [0, 10, 20, 30, 40, 50]);
  });
  test('opts.rateHz overrides the measured rate', () => {
    const r = parseCsvRecording('time_ms,red\n0,0\n10,10\n20,20\n', { rateHz: 200 });
    assert.equal(r.rateHz, 200);
    assert.deepEqual([...r.red!], [0, 5, 10, 15, 20]);
  });
  test('skips blank lines, # comments, and handles CRLF and CR CR LF endings', () => {
    const r = parseCsvRecording('# exported by a logger\r\n\r\nred,ir\r\r\n1,2\r\r\n\r\r\n3,4\r\n', { rateHz: 25 });
    assert.deepEqual([...r.red!], [1, 3]);
  });
  test('masks raw MAX30102 words to 18 bits when asked', () => {
    const r = parseCsvRecording(`red,ir\n${0x26c414},${0x2f4e42}\n`, { rateHz: 25, mask18: true });
    assert.equal(r.red![0], 0x2c414);
    assert.equal(r.ir![0], 0x34e42);
    assert.equal(r.meta.unmaskedValues, 2);
  });
  test('a non-numeric cell names the line and column', () => {
    assert.throws(
      () => parseCsvRecording('red,ir\n1,2\n3,oops\n', { rateHz: 25 }),
      (e: unknown) => {
        assert.ok(e instanceof RecordingError);
        assert.match(e.message, /line 3, column ir: "oops" is not a number/);
        return true;
      },
    );
  });
  test('an empty cell is an error, not a zero', () => {
    assert.throws(() => parseCsvRecording('red,ir\n1,\n', { rateHz: 25 }), /line 2, column ir: empty/);
  });
  test('empty file, header only, no usable column, header-less data', () => {
    assert.throws(() => parseCsvRecording('', { rateHz: 25 }), /empty file/);
    assert.throws(() => parseCsvRecording('\n\n  \n', { rateHz: 25 }), /empty file/);
    assert.throws(() => parseCsvRecording('red,ir\n', { rateHz: 25 }), /no data rows/);
    assert.throws(() => parseCsvRecording('green,blue\n1,2\n', { rateHz: 25 }), /no red or ir column/);
    assert.throws(() => parseCsvRecording('1,2\n3,4\n', { rateHz: 25 }), /not a header/);
  });
  test('time going backwards is an error', () => {
    assert.throws(() => parseCsvRecording('time_ms,ir\n0,1\n10,2\n5,3\n'), /time goes backwards at sample 3/);
  });
  test('a duplicated column is an error', () => {
    assert.throws(() => parseCsvRecording('ir,ir\n1,2\n', { rateHz: 25 }), /appears twice/);
  });
});

describe('loadRecording: dataset formats', () => {
  test('OxiWear proto1: preamble, CRLF, LEDC1 = IR, LEDC2 = red, footer, reference from the name', () => {
    const head = [
      'MAXM86161reg0x0D,MAXM86161reg0x10,',
      '0x02,0x00,',
      'start time,1596743856599',
      'expected tags,1,2,3,',
      'timestamp,sampleNum,tagLEDC1,tagLEDC2,tagLEDC3,LEDC1,LEDC2,LEDC3,ACCX,ACCY,ACCZ,temperature,RTC,sensor,regAddr,val,I2Caddr,',
    ];
    const ir = steady(40, 78000);
    const red = steady(40, 98000);
    ir[0] = 57810; // settling transient
    red[0] = 58018;
    const rows = ir.map(
      (v, i) =>
        `${(1596743856814.5435 + i * 15.625).toFixed(6)},${i + 1},0,0,0,${v}.000000,${red[i]}.000000,1210.000000,230,-61,-1099,,,,,,,`,
    );
    const foot = ['stop time,1596743861420', 'elapsed capture time: 0h00m05s', 'missed packet count: 0', ''];
    const p = file('oxi/1557-76-76_.csv', [...head, ...rows, ...foot].join('\r\n'));
    const r = loadRecording(p);
    assert.equal(r.meta.format, 'oxiwear-proto1');
    assert.equal(r.rateHz, 64);
    assert.equal(r.meta.trimmedStartupSamples, 1);
    assert.equal(r.ir![0], ir[1]);
    assert.equal(r.red![0], red[1]);
    assert.deepEqual(r.meta.reference, { spo2: 76, hrBpm: 76 });
    assert.equal(r.extra!.ambient![0], 1210);
    assert.equal(r.meta.startTimeMs, 1596743856599);
  });
  test('OxiWear proto1: a data row after the footer is refused', () => {
    const text = [
      'timestamp,sampleNum,tagLEDC1,tagLEDC2,tagLEDC3,LEDC1,LEDC2,LEDC3',
      '1,1,0,0,0,1,2,3',
      '2,2,0,0,0,1,2,3',
      'stop time,5',
      '3,3,0,0,0,1,2,3',
    ];
    assert.throws(() => loadRecording(file('oxi/bad.csv', text.join('\n'))), /after the footer/);
  });
  test('OxiWear proto2: header 1..6, ir,ambient,red at 24.995 Hz, ranges in the name', () => {
    const rows = steady(40, 227000).map((v, i) => `${v},${200 + i},${v + 47000}`);
    const r = loadRecording(file('oxi2/20201012-165638-9596-7174.csv', ['1,2,3,4,5,6', ...rows, ''].join('\n')));
    assert.equal(r.meta.format, 'oxiwear-proto2');
    assert.equal(r.rateHz, 24.995);
    assert.equal(r.red![0]! - r.ir![0]!, 47000);
    assert.equal(r.extra!.ambient![0], 200);
    assert.deepEqual(r.meta.reference, { spo2: [95, 96], hrBpm: [71, 74] });
  });
  test('alsementsov: header-less red,ir,spo2 with CR CR LF, start-up rows trimmed, -999 → NaN', () => {
    const red = steady(40, 82000);
    const ir = steady(40, 115000);
    red[0] = 65195;
    ir[0] = 65174;
    ir[1] = 97904;
    const rows = red.map((v, i) => `${v},${ir[i]},${i === 5 ? '-999' : '97.50'}`);
    const r = loadRecording(file('als/15-10-2019_11-50_good.csv', `${rows.join('\r\r\n')}\r\r\n`));
    assert.equal(r.meta.format, 'alsementsov-csv');
    assert.equal(r.rateHz, 25);
    assert.equal(r.meta.trimmedStartupSamples, 2);
    assert.equal(r.red!.length, 38);
    assert.equal(r.ir![0], ir[2]);
    assert.ok(Number.isNaN(r.extra!.spo2Device![3]!));
    assert.equal(r.extra!.spo2Device![0], 97.5);
    assert.equal(r.meta.reference?.label, 'good');
  });
  test('alsementsov: November red,ir rows with blank lines between them; the ambient run is labelled', () => {
    const rows = steady(30, 80000).map((v) => `${v},${v + 30000}`);
    const r = loadRecording(file('als/15-11-2019_17-45.csv', `${rows.join('\n\n')}\n`));
    assert.equal(r.ir!.length, 30);
    assert.equal(r.extra, undefined);
    const amb = loadRecording(file('als/16-10-2019_16-43_ambicsv', '1892,15233,0.00\r\r\n1896,15234,0.00\r\r\n'));
    assert.equal(amb.meta.reference?.label, 'ambient');
  });
  test('header-less file of an unknown source needs a rate', () => {
    const p = file('misc/capture.csv', '1,2\n3,4\n');
    assert.throws(() => loadRecording(p), /header-less.*rateHz/);
    assert.equal(loadRecording(p, { rateHz: 50 }).rateHz, 50);
    assert.throws(() => loadRecording(file('misc/ragged.csv', '1,2\n3,4,5\n'), { rateHz: 50 }), /line 2: expected 2 numbers/);
  });
  test('jdesbonnet .dat: JSON header, two sensors interleaved, unmasked 24-bit words, device-tick timing', () => {
    const header = ['# {"dataType":"PPG",', '# "sampling_rate":100,', '# "sensorLocations":["finger","palm"] }'];
    const rows: string[] = [];
    for (let i = 0; i < 60; i++) {
      const host = 1500834490 + i * 0.01 + (i % 3) * 0.002; // host clock jitters
      const ticks = 33292971 + i * 10000; // device ticks are regular (µs)
      rows.push(`${host.toFixed(6)} ${ticks} 0 ${0x26c414 + (i % 5)} ${0x2f4e42} 53 152`);
      rows.push(`${(host + 0.001).toFixed(6)} ${ticks + 500} 1 ${0x22600 | 0x1c0000} 2544428 54 103`);
    }
    const p = file('jd/left_hand_100sps.dat', `${[...header, ...rows].join('\n')}\n`);
    const r = loadRecording(p);
    assert.equal(r.meta.format, 'jdesbonnet-dat');
    assert.equal(r.rateHz, 100);
    assert.equal(r.red![0], 0x2c414);
    assert.equal(r.ir![0], 0x34e42);
    assert.equal(r.meta.statedRateHz, 100);
    assert.equal(r.meta.sensorLocation, 'finger');
    const palm = loadRecording(p, { sensorId: 1 });
    assert.equal(palm.red![0], 0x22600);
    assert.equal(palm.meta.sensorLocation, 'palm');
    assert.throws(() => loadRecording(p, { sensorId: 2 }), /no samples from sensor 2 \(sensors present: 0, 1\)/);
  });
  test('aromring Sample,RED,IR at 25 Hz', () => {
    const rows = steady(40, 118000).map((v, i) => `${i},${v},${v + 13000}`);
    const r = loadRecording(file('aro/ExpectedGoodQualitySignals.csv', ['Sample,RED,IR', ...rows].join('\r\n')));
    assert.equal(r.meta.format, 'aromring-csv');
    assert.equal(r.rateHz, 25);
    assert.equal(r.ir![0]! - r.red![0]!, 13000);
  });
  test('vrano714 red.log + ir.log are read as a pair, from either file or their folder', () => {
    file('vr/red.log', `${steady(40, 123000).join('\n')}\n\n`);
    file('vr/ir.log', `${steady(41, 145000).join('\n')}\n`);
    const r = loadRecording(join(dir, 'vr/ir.log'));
    assert.equal(r.meta.format, 'vrano-log');
    assert.equal(r.rateHz, 25);
    assert.equal(r.red!.length, 40);
    assert.equal(r.meta.truncatedTo, 40);
    assert.equal(loadRecording(join(dir, 'vr')).ir!.length, 40);
    file('vr-alone/red.log', '1\n2\n');
    assert.throws(() => loadRecording(join(dir, 'vr-alone/red.log')), /ir\.log is missing/);
  });
  test('BIDMC signals: PLETH as ir, ECG and RESP in extra, 125 Hz checked', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${+(i * 0.008).toFixed(3)},0.35,${(0.4 + i / 1000).toFixed(5)},0.5,0.3,0.7`);
    const r = loadRecording(file('bidmc/bidmc_01_Signals.csv', ['Time [s], RESP, PLETH, V, AVR, II', ...rows].join('\n')));
    assert.equal(r.meta.format, 'bidmc-signals');
    assert.equal(r.rateHz, 125);
    assert.equal(r.ir![1], 0.401);
    assert.equal(r.extra!.II![0], 0.7);
    assert.equal(r.meta.reference?.ecgChannel, 'II');
    const wrong = Array.from({ length: 50 }, (_, i) => `${i * 0.01},0.35,0.4,0.5,0.3,0.7`);
    assert.throws(
      () => loadRecording(file('bidmc/bidmc_02_Signals.csv', ['Time [s], RESP, PLETH, V, AVR, II', ...wrong].join('\n'))),
      /125 Hz/,
    );
  });
  test('Welltory (CC0 fixture): irregular camera frames resampled, R as red, RR.txt as reference', () => {
    const r = loadRecording(join(fixtures, 'welltory_subject_01/PPG.csv'));
    assert.equal(r.meta.format, 'welltory-ppg');
    assert.equal(r.meta.pulseChannel, 'red');
    assert.equal(r.ir, undefined);
    assert.ok(r.rateHz >= 25 && r.rateHz <= 31, `rate ${r.rateHz}`);
    assert.equal(r.red![0], 252.65);
    assert.equal(r.meta.reference?.rrMs?.[0], 1203);
    const hr = r.meta.reference!.hrBpm as number;
    assert.ok(hr > 40 && hr < 120, `reference HR ${hr}`);
    assert.throws(() => loadRecording(join(fixtures, 'welltory_subject_01/RR.txt')), /RR intervals, not a PPG/);
  });
  test('plain CSV files go through parseCsvRecording', () => {
    const r = loadRecording(file('plain/run.csv', 'time_ms,red,ir\n0,1,2\n40,3,4\n80,5,6\n'));
    assert.equal(r.meta.format, 'csv');
    assert.equal(r.rateHz, 25);
    assert.equal(r.meta.source, join(dir, 'plain/run.csv'));
  });
});

describe('loadRecording: what cannot be read', () => {
  test('missing file, folder without a recording, empty file, binary file', () => {
    assert.throws(() => loadRecording(join(dir, 'nope.csv')), /cannot read \(ENOENT\)/);
    mkdirSync(join(dir, 'emptydir'), { recursive: true });
    assert.throws(() => loadRecording(join(dir, 'emptydir')), /folder without/);
    assert.throws(() => loadRecording(file('e/empty.csv', '\n\n')), /empty file/);
    assert.throws(() => loadRecording(file('e/blob.bin', Buffer.from([1, 0, 2, 3]))), /binary file/);
  });
  test('an unknown text format is named as such', () => {
    assert.throws(() => loadRecording(file('e/notes.txt', 'hello world\nsecond line\n')), /not a recording format we know/);
  });
  test('every error is a RecordingError', () => {
    for (const bad of ['e/empty.csv', 'e/notes.txt', 'e/blob.bin']) {
      assert.throws(() => loadRecording(join(dir, bad)), RecordingError);
    }
  });
});

describe('garbage in: only RecordingError comes out', () => {
  // Deterministic pseudo-random inputs built from pieces of real formats, shuffled and cut.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pieces = [
    'time_ms,red,ir',
    'red,ir',
    '1,2',
    '3,,4',
    '#',
    'NaN',
    '-999',
    '1e400',
    ' ',
    '\r\r\n',
    '\n',
    ',',
    'timestamp,sampleNum',
    '0x1f',
    'é',
    '\u0000',
    '1,2,3,4,5,6',
    'Time [s], PLETH',
    'Sample,RED,IR',
    '1500834490.3 33292971 0 2544250 3105078 72 270',
  ];
  test('parseCsvRecording and loadRecording on 300 mangled files', () => {
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(rand() * 30);
      const text = Array.from({ length: n }, () => pieces[Math.floor(rand() * pieces.length)]).join(rand() < 0.5 ? '\n' : ',');
      const rateHz = rand() < 0.5 ? undefined : 25;
      for (const run of [() => parseCsvRecording(text, { rateHz }), () => loadRecording(file(`fuzz/f${i}.csv`, text), { rateHz })]) {
        try {
          const r = run();
          assert.ok(r.rateHz > 0 && (r.red ?? r.ir)!.length > 0);
          for (const ch of [r.red, r.ir]) if (ch) assert.ok(ch.every(Number.isFinite), 'no NaN or Infinity in a parsed channel');
        } catch (err) {
          assert.ok(
            err instanceof RecordingError,
            `input ${JSON.stringify(text).slice(0, 120)} threw ${(err as Error).name}: ${(err as Error).message}`,
          );
        }
      }
    }
  });
});
