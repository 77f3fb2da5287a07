/**
 * npm run bench:dsp
 *
 * Speed and memory of the streaming pipeline: one hour of 100 Hz red + IR
 * (synthetic, from firmware-bridge's generator, with a heart rate and SpO2
 * that drift) pushed sample by sample on one core. Prints the multiple of
 * real time and the heap after each ten minutes of signal (after a forced
 * garbage collection), which must stay flat.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { renderSynthetic } from '../../firmware-bridge/sources/synthetic.ts';
import { VitalsPipeline } from '../../gateway/signal/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const RATE = 100;
const SECONDS = 3600;
const CHUNK_S = 600;

// Render ten minutes once and loop it: generating the signal is not what is measured.
const chunk = renderSynthetic(
  {
    name: 'bench',
    initial: { hrBpm: 72, spo2: 97, perfusionIndex: 2 },
    events: [
      { atS: 120, set: { hrBpm: 110, spo2: 91 }, overS: 60 },
      { atS: 400, set: { hrBpm: 65, spo2: 98 }, overS: 90 },
    ],
  },
  { rateHz: RATE, durationS: CHUNK_S },
);
const red = chunk.red!;
const ir = chunk.ir!;

function run(seconds: number): { ms: number; estimates: number; heap: number[] } {
  const p = new VitalsPipeline({ rateHz: RATE });
  const heap: number[] = [];
  let estimates = 0;
  const total = seconds * RATE;
  const n = red.length;
  gc();
  heap.push(process.memoryUsage().heapUsed);
  const t0 = performance.now();
  let paused = 0;
  for (let i = 0; i < total; i++) {
    const k = i % n;
    if (p.push(red[k]!, ir[k]!) !== undefined) estimates++;
    if (k === n - 1) {
      const g0 = performance.now();
      gc();
      heap.push(process.memoryUsage().heapUsed);
      paused += performance.now() - g0;
    }
  }
  return { ms: performance.now() - t0 - paused, estimates, heap };
}

run(600); // warm up the JIT
const { ms, estimates, heap } = run(SECONDS);
const realTime = (SECONDS * 1000) / ms;
const mb = (b: number) => (b / 1024 / 1024).toFixed(2);
console.log(`# DSP benchmark (npm run bench:dsp)`);
console.log();
console.log(
  `Signal: ${SECONDS} s of ${RATE} Hz red + IR (${(SECONDS * RATE).toLocaleString('en')} samples per channel), ${estimates} estimates.`,
);
console.log(
  `Time: ${ms.toFixed(0)} ms on one core → **${realTime.toFixed(0)}× real time** (${((ms * 1000) / (SECONDS * RATE)).toFixed(3)} µs per sample pair).`,
);
console.log(
  `Heap after each ${CHUNK_S / 60} min of signal (MB, after GC): ${heap.map(mb).join(', ')}; growth ${mb(heap.at(-1)! - heap[1]!)} MB from the first to the last ten minutes.`,
);
console.log(`Node ${process.version}, ${process.arch}.`);
