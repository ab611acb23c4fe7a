// GET /.well-known/authzen-configuration: the PDP metadata document, naming only the endpoints
// this keycard serves. `policy_decision_point` is `authzen.baseUrl` when set; otherwise the URL
// the document was fetched from (http://HOST), which is what a PEP compares it with. Behind a
// proxy that terminates TLS, set baseUrl: the spec wants an https identifier.
import type { AuthzenSettings } from './settings.js';

export const METADATA_PATH = '/.well-known/authzen-configuration';

export const ENDPOINT_PATHS = {
  evaluation: '/access/v1/evaluation',
  evaluations: '/access/v1/evaluations',
  searchSubject: '/access/v1/search/subject',
  searchResource: '/access/v1/search/resource',
  searchAction: '/access/v1/search/action',
} as const;

export type Endpoint = keyof typeof ENDPOINT_PATHS;

const METADATA_KEYS: Record<Endpoint, string> = {
  evaluation: 'access_evaluation_endpoint',
  evaluations: 'access_evaluations_endpoint',
  searchSubject: 'search_subject_endpoint',
  searchResource: 'search_resource_endpoint',
  searchAction: 'search_action_endpoint',
};

export function metadataDocument(settings: Pick<AuthzenSettings, 'baseUrl'>, host: string | undefined, enabled: (endpoint: Endpoint) => boolean): Record<string, string> {
  const base = settings.baseUrl ?? `http://${host ?? 'localhost'}`;
  const document: Record<string, string> = { policy_decision_point: base };
  for (const [endpoint, path] of Object.entries(ENDPOINT_PATHS) as [Endpoint, string][]) {
    if (enabled(endpoint)) document[METADATA_KEYS[endpoint]] = `${base}${path}`;
  }
  return document;
}
