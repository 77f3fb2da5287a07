import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseWriteApi } from '../../../../cloud-relay/store/influx/write-api.ts';

describe('chooseWriteApi (X-Influxdb-Version of /ping)', () => {
  const cases: Array<[string | null, 'v1' | 'v2']> = [
    ['1.6.7~rc0', 'v1'], // Debian 12's influxdb package
    ['1.7.10', 'v1'],
    ['1.8.0', 'v2'], // first 1.x with the /api/v2/write compatibility endpoint
    ['1.11.8', 'v2'],
    ['v2.7.11', 'v2'], // 2.x prefixes a v
    ['3.0.1', 'v2'],
    ['0.13.0', 'v1'],
    [null, 'v1'], // header absent: /write is the one every compatible server takes
    ['', 'v1'],
    ['unknown', 'v1'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => {
      assert.equal(chooseWriteApi(header), expected);
    });
  }
});
