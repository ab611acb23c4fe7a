// Settings `explorer`: the decision explorer page on the admin port. Off unless enabled; when on,
// it answers loopback requests, and others only with the admin bearer token read from the file or
// environment variable named here (never written in the settings file itself).
//   explorer:
//     enabled: true
//     capacity: 500                         # decisions kept in memory (newest first)
//     adminTokenFile: secrets/explorer-token  # or adminTokenEnv: KEYCARD_EXPLORER_TOKEN
//     maskSubjects: false                   # show a keyed hash instead of each subject
import { z } from 'zod';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, "_")');

export const EXPLORER_DEFAULTS = { enabled: false, capacity: 500, maskSubjects: false } as const;

export const explorerSettingsSchema = z
  .strictObject({
    enabled: z.boolean().default(EXPLORER_DEFAULTS.enabled),
    /** How many recent decisions are kept (a ring: the oldest goes first). */
    capacity: z.number().int().min(10).max(10_000).default(EXPLORER_DEFAULTS.capacity),
    /** A bearer token that lets non-loopback clients in; without one only loopback is served. */
    adminTokenFile: z.string().min(1).optional(),
    adminTokenEnv: envName.optional(),
    /** Subjects are shown (and filtered) as a short keyed hash, never in clear. */
    maskSubjects: z.boolean().default(EXPLORER_DEFAULTS.maskSubjects),
  })
  .superRefine((explorer, ctx) => {
    if (explorer.adminTokenFile !== undefined && explorer.adminTokenEnv !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set at most one of adminTokenFile and adminTokenEnv', path: ['adminTokenFile'] });
    }
  });

export type ExplorerSettings = z.infer<typeof explorerSettingsSchema>;
