// `denyPage:` in the settings file and in policies: validation with located errors, and which
// denies carry the page options (a policy's keys override the settings file's; off by default).
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import type { DenyPageSettings } from '../../src/config/deny-page-settings.js';
import { loadSettings } from '../../src/config/settings.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { configError } from '../helpers/config-error.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml, loadErrors } from '../helpers/policy.js';
import { Workspace } from '../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.remove();
  workspace = undefined;
});

function loadSettingsText(text: string) {
  workspace = new Workspace();
  return loadSettings(workspace.write('keycard.yaml', text));
}

describe('settings denyPage', () => {
  it('is absent by default and reads html and supportContact', () => {
    expect(loadSettingsText('policies: { dir: p }\n').denyPage).toBeUndefined();
    expect(loadSettingsText('policies: { dir: p }\ndenyPage: { supportContact: "ops@example.com" }\n').denyPage).toEqual({ html: false, supportContact: 'ops@example.com' });
    expect(loadSettingsText('policies: { dir: p }\ndenyPage: { html: true }\n').denyPage).toEqual({ html: true });
  });

  it('reports a bad key or value with its place', () => {
    const message = (text: string) => configError(() => loadSettingsText(text)).message.replace(workspace!.path('keycard.yaml'), 'keycard.yaml');
    expect(message('policies: { dir: p }\ndenyPage:\n  html: true\n  contact: me\n')).toBe('keycard.yaml:4:3 [unknown_key] denyPage.contact: unknown key "contact"');
    expect(message('policies: { dir: p }\ndenyPage: { html: "on" }\n')).toBe('keycard.yaml:2:19 [invalid_value] denyPage.html: Invalid input: expected boolean, received string');
    expect(message('policies: { dir: p }\ndenyPage: { supportContact: "call\\nme" }\n')).toBe('keycard.yaml:2:29 [invalid_value] denyPage.supportContact: no control characters or line breaks');
  });
});

describe('policy denyPage', () => {
  it('compiles as written, and is absent when the policy has none', () => {
    expect(compileYaml('service: s\ndenyPage: { html: true, supportContact: "team s" }\n').denyPage).toEqual({ html: true, supportContact: 'team s' });
    expect(compileYaml('service: s\n').denyPage).toBeUndefined();
  });

  it('reports bad keys and values with file, line, column and key', () => {
    expect(loadErrors('service: s\ndenyPage: { html: yes }\n')).toEqual(['policy.yaml:2:19 [invalid_value] denyPage.html: Invalid input: expected boolean, received string']);
    expect(loadErrors('service: s\ndenyPage:\n  html: true\n  contact: me\n')).toEqual(['policy.yaml:4:3 [unknown_key] denyPage.contact: unknown key "contact"']);
    expect(loadErrors('service: s\ndenyPage:\n  supportContact: "a\\x07b"\n')).toEqual(['policy.yaml:3:19 [invalid_value] denyPage.supportContact: no control characters or line breaks']);
    expect(loadErrors(`service: s\ndenyPage:\n  supportContact: "${'x'.repeat(201)}"\n`)).toEqual(['policy.yaml:3:19 [invalid_value] denyPage.supportContact: at most 200 characters']);
    expect(loadErrors('service: s\ndenyPage:\n  supportContact: ""\n')).toEqual(['policy.yaml:3:19 [invalid_value] denyPage.supportContact: must not be empty']);
  });
});

describe('which denies carry the page', () => {
  const policies = new PolicySet(
    [
      compileYaml('service: plain\n'),
      compileYaml('service: paged\ndenyPage: { html: true, supportContact: "team paged" }\nrules:\n  - { id: open, effect: allow, anonymous: true, match: { paths: [/open] } }\n'),
      compileYaml('service: optout\ndenyPage: { html: false }\n'),
      compileYaml('service: contact-only\ndenyPage: { supportContact: "team c" }\n'),
    ],
    'v1',
  );
  const decide = (service: string, global?: DenyPageSettings, path = '/x') =>
    pipelineWith({ policies: () => policies, authenticator: fixedIdentity(ANONYMOUS), ...(global && { denyPage: global }) }).decide(authzInput(service, path));

  it('without the settings file turning it on: only services whose policy says html: true', async () => {
    expect((await decide('plain')).denyPage).toBeUndefined();
    expect((await decide('paged')).denyPage).toEqual({ supportContact: 'team paged' });
    expect((await decide('optout')).denyPage).toBeUndefined();
    expect((await decide('contact-only')).denyPage).toBeUndefined();
    expect(await decide('nowhere')).toMatchObject({ reason: 'unknown_service' });
    expect((await decide('nowhere')).denyPage).toBeUndefined();
  });

  it('with the settings file turning it on: every service but those that opt out, unrouted denies too', async () => {
    const global = { html: true, supportContact: 'global desk' };
    expect((await decide('plain', global)).denyPage).toEqual({ supportContact: 'global desk' });
    expect((await decide('paged', global)).denyPage).toEqual({ supportContact: 'team paged' });
    expect((await decide('optout', global)).denyPage).toBeUndefined();
    expect((await decide('contact-only', global)).denyPage).toEqual({ supportContact: 'team c' });
    expect((await decide('nowhere', global)).denyPage).toEqual({ supportContact: 'global desk' });
    expect((await decide('plain', { html: true })).denyPage).toEqual({});
  });

  it('not on allows', async () => {
    const decision = await decide('paged', undefined, '/open');
    expect(decision.allowed).toBe(true);
    expect(decision).not.toHaveProperty('denyPage');
  });

  it('on a deny before any policy has loaded, from the settings file', async () => {
    const decision = await pipelineWith({ policies: () => undefined, authenticator: fixedIdentity(ANONYMOUS), denyPage: { html: true } }).decide(authzInput('plain', '/'));
    expect(decision).toMatchObject({ reason: 'not_ready', denyPage: {} });
  });
});
