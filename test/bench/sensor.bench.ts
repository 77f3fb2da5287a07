/**
 * `npm run bench:sensor`: the driver + emulator read path.
 *  1. Real time at 100, 400 (SpO2 mode), 1600 (SpO2, the datasheet's ceiling) and 3200 samples/s
 *     (heart-rate mode: Table 11 allows no 3200 in SpO2 mode): delivered samples/s, CPU per sample, lost.
 *  2. 400 samples/s in real time with 50 ms event-loop stalls injected every 250 ms: lost samples (target 0).
 *  3. Virtual clock, as fast as it goes: emulated samples per wall second.
 * CPU figures include the emulator and the synthetic signal, not only the driver.
 * BENCH_SECONDS sets the real-time duration of each run (default 5).
 */
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { VirtualClock } from '../../firmware-bridge/clock.ts';
import { openSensor } from '../../firmware-bridge/index.ts';
import type { Max30102Config } from '../../firmware-bridge/max30102/config.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);

interface Run {
  label: string;
  config: Partial<Max30102Config>;
}

const runs: Run[] = [
  { label: '100/s SpO2 411 µs', config: { sampleRate: 100 } },
  { label: '400/s SpO2 411 µs', config: { sampleRate: 400 } },
  { label: '1600/s SpO2 69 µs', config: { sampleRate: 1600, pulseWidthUs: 69 } },
  { label: '3200/s HR 69 µs', config: { mode: 'hr', sampleRate: 3200, pulseWidthUs: 69 } },
];

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

async function realTime(run: Run, stall?: { everyMs: number; forMs: number }) {
  const s = await openSensor({ mode: 'emulator', config: run.config });
  let n = 0;
  let maxBatch = 0;
  s.onSamples((b) => {
    n += b.length;
    maxBatch = Math.max(maxBatch, b.length);
  });
  let stalls = 0;
  const stallTimer = stall
    ? setInterval(() => {
        // Busy-wait: the event loop runs nothing else, like a long synchronous job in the gateway.
        const until = performance.now() + stall.forMs;
        while (performance.now() < until) {}
        stalls++;
      }, stall.everyMs)
    : undefined;
  await s.start();
  // Let bring-up finish and the JIT warm up before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const n0 = n;
  const lost0 = s.state().lostSamples;
  const overflows0 = s.state().overflows;
  // The delay monitor wakes the loop every 10 ms itself, so it runs only where stalls are measured.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  if (stall) lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs(cpu0);
  const got = n - n0;
  const st = s.state();
  lag.disable();
  if (stallTimer) clearInterval(stallTimer);
  await s.stop();
  return {
    label: run.label,
    rate: s.sampleRateHz,
    samplesPerS: got / wall,
    cpuUsPerSample: (cpu * 1000) / got,
    cpuPct: (cpu / (wall * 1000)) * 100,
    lost: st.lostSamples - lost0,
    overflows: st.overflows - overflows0,
    state: st.state,
    maxBatch,
    stalls,
    lagMaxMs: lag.max / 1e6,
    lagP99Ms: lag.percentile(99) / 1e6,
  };
}

async function virtual(run: Run, emulatedS: number) {
  const clock = new VirtualClock();
  const s = await openSensor({ mode: 'emulator', clock, config: run.config });
  let n = 0;
  s.onSamples((b) => {
    n += b.length;
  });
  await s.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await clock.advance(emulatedS * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs(cpu0);
  await s.stop();
  return {
    label: run.label,
    emulatedS,
    samples: n,
    samplesPerWallS: n / wall,
    speedup: emulatedS / wall,
    cpuUsPerSample: (cpu * 1000) / n,
    lost: s.state().lostSamples,
  };
}

const fmt = (v: number, d = 1) => v.toFixed(d);

console.log(
  `sensor bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at start, ${seconds} s per real-time run\n`,
);
console.log('1. Real time (driver + emulator + synthetic signal)');
console.log('   run                    rate   delivered/s   CPU µs/sample   CPU %   lost   max batch');
for (const run of runs) {
  const r = await realTime(run);
  console.log(
    `   ${r.label.padEnd(22)} ${String(r.rate).padStart(5)}   ${fmt(r.samplesPerS).padStart(11)}   ${fmt(r.cpuUsPerSample).padStart(13)}   ${fmt(r.cpuPct).padStart(5)}   ${String(r.lost).padStart(4)}   ${String(r.maxBatch).padStart(9)}`,
  );
}

console.log('\n2. 400 samples/s with 50 ms event-loop stalls every 250 ms');
const stalled = await realTime(runs[1]!, { everyMs: 250, forMs: 50 });
console.log(
  `   stalls injected ${stalled.stalls}, delivered ${fmt(stalled.samplesPerS)}/s, lost ${stalled.lost}, overflows ${stalled.overflows}, largest batch ${stalled.maxBatch} (FIFO holds 32); event-loop delay p99 ${fmt(stalled.lagP99Ms)} ms, max ${fmt(stalled.lagMaxMs)} ms`,
);

console.log(`   load average now ${loadavg()[0]!.toFixed(1)}: on a shared machine the scheduler adds stalls of its own`);
{
  // The same stalls in emulated time, free of the host's scheduler: the driver logic alone.
  const clock = new VirtualClock();
  const s = await openSensor({ mode: 'emulator', clock, config: { sampleRate: 400 } });
  let n = 0;
  s.onSamples((b) => {
    n += b.length;
  });
  await s.start();
  await clock.advance(1000);
  const stalls = 1000;
  for (let i = 0; i < stalls; i++) {
    await clock.advance(200);
    clock.jump(50);
  }
  await clock.advance(100);
  const st = s.state();
  await s.stop();
  console.log(
    `   virtual clock: ${stalls} stalls of 50 ms every 250 ms over ${(stalls * 0.25).toFixed(0)} s: ${n} samples, lost ${st.lostSamples}, overflows ${st.overflows}`,
  );
}
console.log('\n3. Virtual clock, as fast as it goes');
console.log('   run                    emulated s   samples/wall s   speed-up   CPU µs/sample   lost');
for (const run of runs) {
  const emulatedS = Math.max(20, Math.round(400_000 / (run.config.sampleRate ?? 100) / 10));
  const r = await virtual(run, emulatedS);
  console.log(
    `   ${r.label.padEnd(22)} ${String(r.emulatedS).padStart(10)}   ${fmt(r.samplesPerWallS, 0).padStart(14)}   ${fmt(r.speedup, 0).padStart(7)}×   ${fmt(r.cpuUsPerSample).padStart(13)}   ${String(r.lost).padStart(4)}`,
  );
}
