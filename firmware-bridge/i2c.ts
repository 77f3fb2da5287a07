/**
 * I2C seam: the subset of i2c-bus's promise API (`openPromisified`) the MAX30102 driver uses.
 * On a Pi, i2c-bus fills it (i2c-hardware.ts); elsewhere the register-level emulator does
 * (max30102/emulator.ts). Nothing above the driver knows which one it has.
 */
export interface BytesRead {
  bytesRead: number;
  buffer: Buffer;
}

export interface I2CBus {
  readByte(address: number, command: number): Promise<number>;
  writeByte(address: number, command: number, byte: number): Promise<void>;
  /** SMBus block read of `length` bytes (at most 32) starting at register `command`. */
  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<BytesRead>;
  close(): Promise<void>;
}

/** SMBus limits a block transfer to 32 bytes (SMBus 3.0 §6.5.7; Linux I2C_SMBUS_BLOCK_MAX). */
export const I2C_BLOCK_MAX = 32;

export type I2cFailure = 'EIO' | 'NACK' | 'TIMEOUT' | 'OTHER';

/** A failed bus transaction, classified so the driver can say what went wrong and where. */
export class I2cError extends Error {
  override name = 'I2cError';
  constructor(
    readonly failure: I2cFailure,
    readonly register: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps an errno from i2c-bus (Linux i2c-dev) to a failure kind: ENXIO/EREMOTEIO are the NACKs. */
export function classifyI2cError(err: unknown, register?: number): I2cError {
  if (err instanceof I2cError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reg = register === undefined ? '' : ` at register 0x${register.toString(16).padStart(2, '0')}`;
  const failure: I2cFailure =
    code === 'EIO' ? 'EIO' : code === 'ENXIO' || code === 'EREMOTEIO' ? 'NACK' : code === 'ETIMEDOUT' ? 'TIMEOUT' : 'OTHER';
  return new I2cError(
    failure,
    register,
    `I2C ${failure === 'OTHER' ? (code ?? 'error') : failure}${reg}: ${(err as Error)?.message ?? String(err)}`,
    {
      cause: err,
    },
  );
}
