// Store reads made for a traced decision become `keycard.store.<op>` spans (op: a StoreReadOp)
// under the phase that made them. The serving store is wrapped only when tracing is on; every other method (writes,
// listings, the change feed, health) passes through untouched, so the wrapper keeps working as
// the store interface grows. A read outside a traced decision (a shadow evaluation, an untraced
// request, the state commands) costs one scope lookup.
//
// The caching store's observer (StoreObserver, for metrics) also tells the span whether the read
// was a cache hit and whether a stale answer was served because the store failed.
import type { StoreObserver, StoreReadOp } from '../state/store-observer.js';
import type { StateStore } from '../state/store.js';
import { ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM_NAME, KEYCARD_STORE_CACHE, KEYCARD_STORE_KIND, KEYCARD_STORE_RESULT, SPAN_STORE_PREFIX } from './attributes.js';
import { endWith } from './end-span.js';
import { activeScope, runInScope } from './scope.js';

/** The reads a decision makes: every StoreReadOp (a Record, so a new op is a compile error until listed). */
const READ_OPS: Readonly<Record<StoreReadOp, true>> = { rolesFor: true, subjectsOf: true, revocationFor: true, apiKey: true, session: true, subjectProperties: true };
const TRACED_READS: ReadonlySet<PropertyKey> = new Set(Object.keys(READ_OPS));

type Method = (...args: unknown[]) => unknown;

export function tracedStore(inner: StateStore): StateStore {
  const methods = new Map<PropertyKey, Method>();
  const attributes = (op: string) => ({
    [ATTR_DB_OPERATION_NAME]: op,
    [KEYCARD_STORE_KIND]: inner.kind,
    // Only Redis has a semantic-convention system name; the memory store is keycard's own.
    ...(inner.kind === 'redis' && { [ATTR_DB_SYSTEM_NAME]: 'redis' }),
  });
  const traced = (op: string, read: Method): Method => {
    const spanAttributes = attributes(op);
    return (...args) => {
      const decision = activeScope()?.decision;
      const span = decision?.startChild(SPAN_STORE_PREFIX + op, { client: inner.kind !== 'memory', attributes: spanAttributes });
      if (span === undefined) return read(...args);
      return endWith(span, decision!, runInScope({ decision: decision!, storeSpan: span }, async () => read(...args)));
    };
  };
  return new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(property);
      if (method === undefined) {
        const bound = (value as Method).bind(target);
        method = TRACED_READS.has(property) ? traced(String(property), bound) : bound;
        methods.set(property, method);
      }
      return method;
    },
  });
}

/** The observer the caching store reports to: the metrics' own, plus the current store span's annotations. */
export function tracedStoreObserver(inner: StoreObserver): StoreObserver {
  return {
    operation(op, result) {
      inner.operation(op, result);
      activeScope()?.storeSpan?.setAttribute(KEYCARD_STORE_RESULT, result);
    },
    innerCall: (op, seconds) => inner.innerCall(op, seconds),
    cacheLookup(op, hit) {
      inner.cacheLookup(op, hit);
      activeScope()?.storeSpan?.setAttribute(KEYCARD_STORE_CACHE, hit ? 'hit' : 'miss');
    },
    invalidation: (kind) => inner.invalidation(kind),
  };
}
