// Shared CLI plumbing: usage errors and the settings file location.
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_CONFIG = 'examples/keycard.yaml';

/** --config, else $KEYCARD_CONFIG, else the example configuration. */
export function configPath(flag: string | undefined): string {
  return flag ?? process.env.KEYCARD_CONFIG ?? DEFAULT_CONFIG;
}

export const HELP = `keycard — external authorization for Envoy

Usage:
  keycard serve  [--config FILE] [--grpc-listen HOST:PORT|unix:/path] [--admin-listen HOST:PORT] [--http-listen HOST:PORT]
                 [--workers N]
  keycard check  [--config FILE | --server HOST:PORT] (--path PATH | --request REQ.json) [--method M]
                 [--host H] [--service S] [--header "name: value"]... [--source IP] [--principal SPIFFE_ID]
                 [--token JWT | --subject S [--issuer NAME] [--roles a,b] [--claim k=v]... [--now ISO]]
                 [--format text|json]
  keycard test   [DIR|FILE...] [--config FILE] [--format text|json]
  keycard lint   [--config FILE] [--strict]
  keycard replay --audit AUDIT.jsonl --policies DIR [--config FILE] [--format text|json] [--rule-changes]
  keycard coverage [--config FILE] [--service S] [--format text|json|markdown] [--strict]
  keycard diff   --from OLD_DIR --to NEW_DIR [--config FILE] [--accept FILE]... [--accept-loss SERVICE:OPERATION:CALLER]...
                 [--format text|json|markdown]
  keycard token  --key PRIVATE_JWK_FILE --issuer URL --audience AUD --sub SUBJECT [--ttl 1h] [--claim k=v]...
  keycard keygen [--alg ES256|ES384|EdDSA|RS256|PS256] [--kid KID] [--out FILE]
  keycard roles  grant SUBJECT ROLE [--service S] | revoke SUBJECT ROLE [--service S] | list [SUBJECT]
  keycard revoke token JTI | subject SUBJECT [--before ISO|now] | session SID | list
  keycard tuples add TUPLE | remove TUPLE | check TUPLE | list [--object O] [--relation R] [--subject S]
  keycard apikeys create --subject S [--scope X]... [--expires 90d] [--name N] | revoke ID | list [--subject S]
  keycard sessions create --subject S [--acr A] [--amr pwd,otp] | revoke ID | list [--subject S]
  keycard subjects set ID (--property NAME=VALUE ... | --json FILE) | get ID | list | rm ID
                 (roles, revoke, tuples, apikeys, sessions, subjects: [--config FILE] [--actor NAME] [--format text|json])
  keycard help | version

The settings file is --config, else $KEYCARD_CONFIG, else ${DEFAULT_CONFIG}.

  serve   run the gRPC ext_authz server and the admin HTTP port (metrics, healthz, readyz).
          --workers N: N worker processes share the listening ports, the admin port adds up
          their metrics (default: one per usable CPU, within the cgroup CPU limit and 192 MiB of
          the cgroup memory limit per worker; 1: a single process)
  check   decide one request and explain the decision: in-process from --config, or by sending
          a real Check to a running keycard with --server. --subject gives the caller instead
          of a token (roles from the store unless --roles). Exit 0 allow, 1 deny, 2 error.
  test    run the policy unit tests (*.test.yaml, by default in the policy directory).
          Exit 0 all pass, 1 a case failed, 2 a file is invalid.
  lint    validate the settings file, every policy file and the seed file, and warn about
          shadowed rules, anonymous writes, services without rules and roles no binding gives.
          Exit 0 valid (warnings printed), 1 warnings with --strict, 2 errors.
  replay  decide every decision of an audit log again under the candidate policies in DIR and
          report the changes by service and rule. Exit 1 when an allowed request would be
          denied, 0 otherwise, 2 on errors.
  coverage
          for every operation of every service with an API description: the rules that decide
          it and the verdict for anonymous callers, authenticated callers without roles and each
          role the store binds; then findings (unreachable operations, dead rules and paths,
          anonymous writes, parameter name mismatches, dry-run-only grants, permissions).
          Exit 0 clean, 1 warnings with --strict, 2 errors.
  diff    the access every operation × caller gains and loses from the policies in OLD_DIR to
          those in NEW_DIR, with the rule responsible on each side. Exit 1 when a loss is not
          acknowledged (--accept FILE: a YAML list of {service, operation, caller, reason};
          --accept-loss), 0 otherwise, 2 on errors.
  token   mint a signed JWT for development and tests (never use the example keys in production)
  keygen  create a private JWK for internalToken.signingKeyFile. --out FILE writes it (mode 0600,
          never over an existing file) and prints the public JWK; without --out the private JWK
          is printed
  roles, revoke, tuples
          change or show the live state in the configured store: role bindings, revocations,
          relation tuples (TUPLE is TYPE:ID#RELATION@SUBJECT, checked against the relation
          schema). Every change is audited with --actor (default $KEYCARD_ACTOR, else the OS
          user). A memory store is per process: changes need store.type redis.
          Exit 0 ok, 2 errors; tuples check exits 1 when the subject lacks the relation.
  apikeys, sessions
          create, revoke and list API keys (kc_<id>_<secret>) and sessions in the configured
          store. create prints the key or cookie value once: the store keeps only a hash, the
          audit log only the id. revoke ID deletes it: every replica refuses it at once.
  subjects
          the subject directory that subject.properties conditions read: set replaces a
          subject's properties (--property values are strings; --json FILE, or - for stdin, any
          JSON object up to 64 KiB), rm deletes the record, get exits 1 when there is none.
          Changes are audited (the subject and its property names, never the values).
`;
