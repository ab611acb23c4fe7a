// The HTML deny page switch, in the settings file (every service) and in a policy (its service):
//   denyPage:
//     html: true                                   # off by default; a policy's value wins
//     supportContact: "helpdesk@example.com, ext. 4242"   # shown as text on the page
// Browsers that prefer text/html then get a small page instead of the JSON body
// (src/protocol/deny-page.ts). Unset policy keys inherit the settings file's.
import { z } from 'zod';

/** Shown to anyone who is denied: bounded, printable, one line. */
const supportContact = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  .refine((text) => !/\p{Cc}/u.test(text), 'no control characters or line breaks');

export const denyPageSettingsSchema = z.strictObject({
  html: z.boolean().default(false),
  supportContact: supportContact.optional(),
});

/** A policy's own `denyPage:`: each key overrides the settings file's. */
export const policyDenyPageSchema = z.strictObject({
  html: z.boolean().optional(),
  supportContact: supportContact.optional(),
});

export type DenyPageSettings = z.infer<typeof denyPageSettingsSchema>;
export type PolicyDenyPage = z.infer<typeof policyDenyPageSchema>;

/** What a deny carries when its service serves the HTML page (absent: JSON only, as before). */
export interface DenyPageOptions {
  readonly supportContact?: string;
}

/** The page options for a deny of a service with `policy` (undefined before routing) under `global`; undefined when off. */
export function effectiveDenyPage(policy: PolicyDenyPage | undefined, global: DenyPageSettings | undefined): DenyPageOptions | undefined {
  if (!(policy?.html ?? global?.html ?? false)) return undefined;
  const supportContact = policy?.supportContact ?? global?.supportContact;
  return supportContact === undefined ? {} : { supportContact };
}
