import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, queryDigest } from '../../src/authzen/page-token.js';
import { BadRequest } from '../../src/authzen/request-shapes.js';
import { searchPage } from '../../src/authzen/search-page.js';

describe('page tokens', () => {
  const digest = queryDigest('subject', { a: 1, b: { c: 2, d: [1, 2] } });

  it('does not depend on key order', () => {
    expect(queryDigest('subject', { b: { d: [1, 2], c: 2 }, a: 1 })).toBe(digest);
    expect(queryDigest('resource', { a: 1, b: { c: 2, d: [1, 2] } })).not.toBe(digest);
  });

  it('round-trips the position', () => {
    expect(decodePageToken(encodePageToken(digest, 'user:bob'), digest)).toBe('user:bob');
  });

  it.each(['not a token!', 'abc', Buffer.from('{"v":2,"q":"x","a":"y"}').toString('base64url'), Buffer.from('[]').toString('base64url'), 'A'.repeat(5000)])('refuses %s with a 400', (token) => {
    expect(() => decodePageToken(token, digest)).toThrow(BadRequest);
  });

  it('refuses a token of another query', () => {
    expect(() => decodePageToken(encodePageToken(queryDigest('subject', { a: 2 }), 'x'), digest)).toThrow('page.token belongs to another query');
  });
});

describe('search pages', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const allowed = async (id: string) => id !== 'b' && id !== 'e';
  const digest = queryDigest('subject', {});

  it('walks every result across pages, none twice', async () => {
    const seen: string[] = [];
    let position: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await searchPage({ ids, truncated: false }, { position, limit: 2, maxChecks: 100, digest }, allowed, (id) => id);
      seen.push(...page.results);
      pages++;
      expect(page.page.count).toBe(page.results.length);
      if (page.page.next_token === '') break;
      position = decodePageToken(page.page.next_token, digest);
    }
    expect(seen).toEqual(['a', 'c', 'd', 'f', 'g']);
    expect(pages).toBe(3);
  });

  it('stops at the decision budget with a next_token, even with a short page', async () => {
    const page = await searchPage({ ids, truncated: false }, { position: undefined, limit: 10, maxChecks: 2, digest }, allowed, (id) => id);
    expect(page.results).toEqual(['a']);
    expect(decodePageToken(page.page.next_token, digest)).toBe('b');
  });

  it('says when the candidate walk was cut short', async () => {
    const page = await searchPage({ ids: ['a'], truncated: true }, { position: undefined, limit: 10, maxChecks: 10, digest }, allowed, (id) => id);
    expect(page.page).toEqual({ next_token: '', count: 1, properties: { truncated: true } });
  });
});
