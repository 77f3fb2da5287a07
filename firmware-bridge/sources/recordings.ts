/**
 * Recording parsers: every PPG log format the project is developed against, read into one
 * uniform-rate `Recording`. Used by the emulator's recording source and by the analyze CLI.
 */
export { parseBidmc } from './recordings/bidmc.ts';
export { type CsvOptions, parseCsvRecording } from './recordings/csv.ts';
export { parseAromring, parseHeaderlessRedIr, parseVranoLogs } from './recordings/headerless.ts';
export { parseJdesbonnet } from './recordings/jdesbonnet.ts';
export { loadRecording } from './recordings/load.ts';
export { parseOxiwearProto1, parseOxiwearProto2 } from './recordings/oxiwear.ts';
export { resample, resampleUniform } from './recordings/resample.ts';
export { type LoadOptions, type Recording, RecordingError, type RecordingMeta, type RecordingReference } from './recordings/types.ts';
export { parseRr, parseWelltory } from './recordings/welltory.ts';
