// `keycard/client`: the AuthZEN client for services (package.json `exports`).
export * from './authzen-client.js';
