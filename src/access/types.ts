// An access question in the shape of the OpenID AuthZEN Authorization API 1.0: may this subject
// take this action on this resource, in this context? The AuthZEN listener asks it; the same
// Pipeline and policy evaluator answer it as they answer Envoy's Check (one evaluator, no second
// policy engine). An HTTP request is the special case action = method, resource = the route.

/** A JSON value as it arrives in a request body. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type JsonObject = { readonly [key: string]: JsonValue };

export interface AccessSubject {
  /** e.g. `user`; relation conditions use it as the tuple subject's type (`user:alice`). */
  readonly type: string;
  /** The subject id role bindings and the subject directory are keyed by (e.g. `alice`). */
  readonly id: string;
  /**
   * Properties the caller sent. Conditions read the subject directory's properties under
   * `subject.properties.*`; a property the caller sent is used only where the policy lets the
   * caller supply it, and never overrides the directory unless the policy says it may.
   */
  readonly properties?: JsonObject;
}

export interface AccessAction {
  /** e.g. `can_update_todo`, or an HTTP method for the route special case. */
  readonly name: string;
  readonly properties?: JsonObject;
}

export interface AccessResource {
  /** e.g. `todo`. Each resource type belongs to one service's policy (the one whose rules name it). */
  readonly type: string;
  /** e.g. `42`. Rules bind it as the parameter `{id}` (so `relation: { object: "todo:{id}" }` works). */
  readonly id: string;
  readonly properties?: JsonObject;
}

export interface AccessQuestion {
  readonly subject: AccessSubject;
  readonly action: AccessAction;
  readonly resource: AccessResource;
  readonly context?: JsonObject;
  /** The caller's X-Request-ID, to join logs. */
  readonly requestId?: string;
}
