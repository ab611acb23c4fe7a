// The endpoint registry: each service's own API description (OpenAPI 3.0/3.1), reduced to the
// operations keycard authorizes. Loaded and validated once per policy load; plain data after that.
import type { PathTemplate } from '../policy/path-template.js';

/** One operation of a service's API: a method on a path, as the service itself declares it. */
export interface ApiOperation {
  /** `operationId`, when the document gives one. */
  readonly operationId: string | undefined;
  /** Upper-case HTTP method. */
  readonly method: string;
  /**
   * The full request path as keycard sees it, in path-template syntax: the `servers` base path
   * joined with the OpenAPI path, e.g. `/api/v1/orders/{id}`.
   */
  readonly path: string;
  readonly template: PathTemplate;
  /** Path parameter names, in order, as the API names them. */
  readonly params: readonly string[];
  /** `x-keycard-permission` of the operation: the permission the service says it needs. */
  readonly permission: string | undefined;
  readonly tags: readonly string[];
  /** JSON pointer of the operation in the document, e.g. `/paths/~1orders~1{id}/get`. */
  readonly pointer: string;
}

export interface ApiDescription {
  /** The document's path, as given in messages. */
  readonly file: string;
  readonly title: string;
  readonly version: string;
  /** In document order. */
  readonly operations: readonly ApiOperation[];
}

/** The API descriptions a policy directory refers to, by resolved (absolute) file path. */
export type ApiDescriptions = ReadonlyMap<string, ApiDescription>;
