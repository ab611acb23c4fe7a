// The page's script and markup as served: valid JavaScript, no inline code the Content-Security-
// Policy would block, nothing fetched from elsewhere, and nothing put into the page as HTML.
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { APP_JS } from '../../src/explorer/assets/app-js.js';
import { PAGE_HTML } from '../../src/explorer/assets/page-html.js';

describe('the explorer assets', () => {
  it('script compiles, and writes server data only as text', () => {
    expect(() => new Script(APP_JS)).not.toThrow();
    expect(APP_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('page names only its own files and has no inline script, style or event handler', () => {
    expect(PAGE_HTML).not.toMatch(/<script(?![^>]*\bsrc="\/explorer\/)/);
    expect(PAGE_HTML).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
    for (const [, url] of PAGE_HTML.matchAll(/\b(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^\/explorer\/[a-z.-]+$/);
  });
});
