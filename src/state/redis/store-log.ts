// What the Redis store logs through: connection lost and back, seeding. pino's Logger fits.
export interface StoreLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const SILENT_LOG: StoreLog = { info() {}, warn() {} };
