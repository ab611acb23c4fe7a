// Loaded API descriptions, kept between policy loads: a hot reload re-parses (and re-validates) a
// document only when the content of one of its files changed. The check reads and hashes the
// files, which costs far less than parsing them and, unlike a modification time, cannot miss a
// change written within the same clock tick.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileHash } from './local-files.js';
import { loadApiDocument, type LoadedApi } from './openapi.js';

export class ApiDescriptionCache {
  private readonly entries = new Map<string, LoadedApi>();

  /** The description of `file`, from the cache when none of its files changed. Throws ConfigError. */
  async load(file: string): Promise<LoadedApi> {
    const path = resolve(file);
    const cached = this.entries.get(path);
    if (cached && (await unchanged(cached.files))) return cached;
    this.entries.delete(path);
    const loaded = await loadApiDocument(path);
    this.entries.set(path, loaded);
    return loaded;
  }

  /** Forgets the documents no policy names any more. */
  retain(paths: ReadonlySet<string>): void {
    for (const path of this.entries.keys()) if (!paths.has(path)) this.entries.delete(path);
  }
}

async function unchanged(files: ReadonlyMap<string, string>): Promise<boolean> {
  for (const [path, hash] of files) {
    try {
      if (fileHash(await readFile(path)) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}
