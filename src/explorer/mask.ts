// Settings `explorer.maskSubjects`: a subject is shown as a short keyed hash. The key is random per
// keycard (a cluster primary hands its key to its workers), so the same subject has the same mask
// across workers and can be filtered by, but a list of likely subjects cannot be hashed offline to
// unmask it.
import { createHmac, randomBytes } from 'node:crypto';

/** How a cluster primary passes its mask key (hex) to the workers it forks. */
export const MASK_KEY_ENV = 'KEYCARD_EXPLORER_MASK_KEY';

const MASK_PREFIX = 'masked:';
/** 48 bits: collisions among a ring's few hundred subjects are practically impossible. */
const MASK_HEX_CHARS = 12;

export class SubjectMasker {
  constructor(private readonly key: Buffer) {}

  /** The primary's key when this process is its worker, else a new random one. */
  static forThisProcess(env: Readonly<Record<string, string | undefined>> = process.env): SubjectMasker {
    const hex = env[MASK_KEY_ENV];
    return new SubjectMasker(hex !== undefined && /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : randomBytes(32));
  }

  get keyHex(): string {
    return this.key.toString('hex');
  }

  mask(subject: string): string {
    return `${MASK_PREFIX}${createHmac('sha256', this.key).update(subject).digest('hex').slice(0, MASK_HEX_CHARS)}`;
  }
}
