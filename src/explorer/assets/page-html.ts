// The explorer page. No inline script or style (the Content-Security-Policy forbids both): its code
// is app.js and its look app.css, both served by keycard under /explorer.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keycard · decision explorer</title>
<link rel="icon" href="/explorer/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/explorer/app.css">
<script src="/explorer/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>keycard <span>decision explorer</span></h1>
  <p id="status" class="status" role="status">connecting…</p>
  <button id="live" type="button" aria-pressed="true">Pause</button>
</header>
<main class="layout">
  <section class="recent" aria-labelledby="recent-title">
    <h2 id="recent-title">Recent decisions <span id="count" class="muted"></span></h2>
    <form id="filters" class="filters" autocomplete="off">
      <label>Service <input name="service" list="services"></label>
      <datalist id="services"></datalist>
      <label>Decision
        <select name="decision">
          <option value="">any</option>
          <option value="allow">allow</option>
          <option value="deny">deny</option>
          <option value="dry_run_deny">dry-run deny</option>
        </select>
      </label>
      <label>Reason <input name="reason"></label>
      <label>Subject <input name="subject"></label>
      <label>Path or resource <input name="path" placeholder="/orders, todo:42"></label>
      <button type="reset">Clear</button>
    </form>
    <div class="table-wrap">
      <table id="decisions">
        <thead>
          <tr><th>Time</th><th>Decision</th><th>Service</th><th>Request or question</th><th>Subject</th><th>Reason</th><th>Rule</th><th class="num">ms</th></tr>
        </thead>
        <tbody></tbody>
      </table>
      <p id="empty" class="muted">No decisions yet.</p>
    </div>
  </section>
  <section id="detail" class="panel detail" aria-labelledby="detail-title">
    <h2 id="detail-title">Explanation <button id="close-detail" type="button" aria-label="Close the explanation" hidden>×</button></h2>
    <p id="detail-hint" class="muted">Click a decision to see why it was made: the service chosen, the caller, each rule considered and the condition that failed.</p>
    <dl id="detail-fields" class="fields"></dl>
    <pre id="detail-explanation" class="explanation" hidden></pre>
  </section>
  <section id="try" class="panel try-panel" aria-labelledby="try-title">
    <h2 id="try-title">Try a request</h2>
    <form id="try-form" class="try" autocomplete="off">
      <label>Method
        <select name="method">
          <option>GET</option><option>POST</option><option>PUT</option><option>PATCH</option><option>DELETE</option><option>HEAD</option><option>OPTIONS</option>
        </select>
      </label>
      <label>Service <input name="service" list="services" placeholder="or by host"></label>
      <label>Host <input name="host" placeholder="orders.shop.svc"></label>
      <label class="two">Path <input name="path" required placeholder="/orders/42"></label>
      <label>Client address <input name="source" placeholder="10.0.0.7"></label>
      <label>Subject <input name="subject" placeholder="anonymous"></label>
      <label>Issuer <input name="issuer" placeholder="the service's"></label>
      <label>Roles <input name="roles" placeholder="customer, support"></label>
      <label class="wide">Claims (JSON) <input name="claims" placeholder='{"amr": ["mfa"]}'></label>
      <label class="wide">Headers (JSON) <input name="headers" placeholder='{"x-tenant": "blue"}'></label>
      <label>At <input name="now" placeholder="now, or 2026-11-23T10:00:00Z"></label>
      <div class="actions">
        <label class="check"><input type="checkbox" name="rolesFromStore" checked> roles from the store</label>
        <button type="submit">Explain</button>
      </div>
    </form>
    <p class="muted small">Decided against the policies now loaded; no token is needed or sent.</p>
    <p id="try-error" class="error" role="alert" hidden></p>
    <pre id="try-result" class="explanation" hidden></pre>
  </section>
</main>
</body>
</html>
`;

/** A key, in keycard's colours: the tab icon (an image file, since the policy allows no data: URL). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="5" cy="8" r="3.5" fill="none" stroke="#2f6feb" stroke-width="2"/><path d="M8.5 8h6.5M12.5 8v3M14.5 8v2" stroke="#2f6feb" stroke-width="2"/></svg>
`;
