// The decision explorer's part in one keycard process: every decision (Check, the HTTP check mode,
// AuthZEN access decisions) becomes a sanitized record, kept in the ring this process serves on
// its admin port or, in a cluster worker, queued for the primary (which keeps the ring and serves
// the page); and hypothetical requests are decided
// against this process's policies. Built only when `explorer.enabled`: otherwise keycard does
// nothing per request for the explorer.
import type { AccessQuestion } from '../access/types.js';
import type { ListenAddress } from '../config/listen-address.js';
import type { AuthzInput, Decision } from '../pipeline/types.js';
import { toAccessRecord } from './access-record.js';
import { AdminToken } from './admin-token.js';
import { BoundedQueue } from './bounded-queue.js';
import { ExplorerRoutes } from './http.js';
import { SubjectMasker } from './mask.js';
import { toExplorerRecord, type ExplorerRecord } from './record.js';
import { DecisionRing } from './ring.js';
import type { ExplorerSettings } from './settings.js';
import { tryRequest, type TryAnswer, type TryDeps, type TryInput } from './try-request.js';

/** The ring, its routes and what guards them: for a single keycard, or for a cluster primary. */
export interface ServedExplorer {
  readonly ring: DecisionRing;
  readonly routes: ExplorerRoutes;
  /** Load at start, before listening: a missing token file is a startup error. */
  readonly adminToken: AdminToken;
}

export function serveExplorer(options: {
  readonly settings: ExplorerSettings;
  readonly settingsFile: string;
  readonly adminListen: ListenAddress;
  readonly masker: SubjectMasker | undefined;
  readonly tryRequest: (input: TryInput) => Promise<TryAnswer>;
}): ServedExplorer {
  const { settings, masker } = options;
  const ring = new DecisionRing(settings.capacity, masker && ((subject) => masker.mask(subject)));
  const adminToken = new AdminToken(settings, options.settingsFile);
  const routes = new ExplorerRoutes({
    ring,
    access: { token: adminToken, unixSocket: options.adminListen.socket !== undefined },
    masked: masker !== undefined,
    tryRequest: options.tryRequest,
  });
  return { ring, routes, adminToken };
}

export interface KeycardExplorerOptions {
  readonly settings: ExplorerSettings;
  readonly settingsFile: string;
  readonly adminListen: ListenAddress;
  /** A cluster worker: records are queued for the primary instead of kept in a ring here. */
  readonly forward: boolean;
  /** What a hypothetical request is decided with: the policies now loaded, the store. */
  readonly tryDeps: () => TryDeps;
  /** A cluster worker's outbox was full (the primary did not take its records in time): the oldest record was dropped. */
  readonly onDrop?: () => void;
}

export class KeycardExplorer {
  /** Set when this process serves the explorer. */
  readonly served: ServedExplorer | undefined;
  /** Set in a cluster worker: records waiting to be sent to the primary (the oldest are dropped past capacity). */
  readonly outbox: BoundedQueue<ExplorerRecord> | undefined;
  private readonly masker: SubjectMasker | undefined;

  constructor(private readonly options: KeycardExplorerOptions) {
    const { settings } = options;
    this.masker = settings.maskSubjects ? SubjectMasker.forThisProcess() : undefined;
    if (options.forward) {
      this.outbox = new BoundedQueue(settings.capacity);
    } else {
      this.served = serveExplorer({ ...options, masker: this.masker, tryRequest: (input) => this.tryRequest(input) });
    }
  }

  /** Called for every decision (Pipeline onDecision): must stay cheap and never throw. */
  record(decision: Decision, input: AuthzInput): void {
    this.keep(toExplorerRecord(decision, input, this.masker && { masker: this.masker }));
  }

  /** Called for every access decision (AccessDecider onDecision): must stay cheap and never throw. */
  recordAccess(decision: Decision, question: AccessQuestion): void {
    this.keep(toAccessRecord(decision, question, this.masker && { masker: this.masker }));
  }

  private keep(record: ExplorerRecord): void {
    const { outbox } = this;
    if (this.served) {
      this.served.ring.add(record);
    } else if (outbox) {
      if (outbox.size === outbox.capacity) this.options.onDrop?.();
      outbox.push(record);
    }
  }

  tryRequest(input: TryInput): Promise<TryAnswer> {
    return tryRequest(this.options.tryDeps(), input);
  }
}
