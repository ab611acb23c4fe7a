// Subject properties as conditions see them: the subject directory's, and of what the caller sent
// in the question only the names the policy lists (`subjectProperties`): `fromCaller` names fill
// in where the directory has no value, `callerOverrides` names replace the directory's value.
// Anything else the caller sent is ignored, so a caller cannot pass itself off as, say, the owner's
// e-mail unless the policy says it may.
import type { SubjectPropertySettings } from '../policy/types.js';
import type { JsonObject, JsonValue } from './types.js';

export function mergeSubjectProperties(directory: JsonObject | undefined, sent: JsonObject | undefined, settings: SubjectPropertySettings): JsonObject | undefined {
  if (sent === undefined || (settings.fromCaller.size === 0 && settings.callerOverrides.size === 0)) return directory;
  const merged: Record<string, JsonValue> = { ...directory };
  let used = false;
  for (const [name, value] of Object.entries(sent)) {
    const overrides = settings.callerOverrides.has(name);
    if (!overrides && !(settings.fromCaller.has(name) && !Object.hasOwn(merged, name))) continue;
    merged[name] = value;
    used = true;
  }
  return used || directory !== undefined ? merged : undefined;
}
