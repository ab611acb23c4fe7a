// The explorer page's script: lists the recent decisions (newest first) with the filters, follows
// the live stream for new ones, shows one decision's explanation on click, and sends the "try a
// request" form. Access decisions (AuthZEN) show their action and resource where a Check shows its
// method and path, tagged AuthZEN. Everything from the server is put in the page as text
// (textContent), never as HTML: paths and subjects come from callers. Plain ES2020, no framework;
// kept free of backticks and dollar-brace so that it can live in this template string.
export const APP_JS = String.raw`'use strict';
(function () {
  var BASE = '/explorer/api/';
  var state = { rows: [], cursor: 0, capacity: 500, masked: false, selected: null, generation: 0, fetching: false, again: false, live: true, connected: false };

  function el(id) { return document.getElementById(id); }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function getJson(url, init) {
    var options = Object.assign({ headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }, init || {});
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.error || (response.status + ' ' + response.statusText));
        return body;
      });
    });
  }

  function filterParams() {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(el('filters').elements, function (input) {
      if (input.name && input.value.trim() !== '') params.set(input.name, input.value.trim());
    });
    return params;
  }

  function setStatus(text, live) {
    var status = el('status');
    status.textContent = text;
    status.classList.toggle('live', Boolean(live));
  }

  function describeStatus() {
    if (!state.live) return setStatus('paused', false);
    var masked = state.masked ? ' · subjects masked' : '';
    setStatus((state.connected ? 'live' : 'reconnecting…') + masked, state.connected);
  }

  // The whole list again: on load and whenever a filter changes.
  function reload() {
    var generation = ++state.generation;
    return getJson(BASE + 'decisions?' + filterParams().toString()).then(function (body) {
      if (generation !== state.generation) return;
      state.rows = body.decisions;
      state.cursor = body.latestSeq;
      state.capacity = body.capacity;
      state.masked = body.masked;
      describeStatus();
      render();
    }).catch(showListError);
  }

  // Only what arrived after the newest decision seen, through the same filters.
  function fetchNewer() {
    if (!state.live) return;
    if (state.fetching) { state.again = true; return; }
    state.fetching = true;
    var generation = state.generation;
    var params = filterParams();
    params.set('after', String(state.cursor));
    getJson(BASE + 'decisions?' + params.toString()).then(function (body) {
      if (generation !== state.generation) return;
      state.cursor = body.latestSeq;
      if (body.decisions.length > 0) {
        state.rows = body.decisions.concat(state.rows).slice(0, state.capacity);
        render();
      }
    }).catch(showListError).then(function () {
      state.fetching = false;
      if (state.again) { state.again = false; fetchNewer(); }
    });
  }

  function showListError(error) { setStatus('error: ' + error.message, false); }

  function formatTime(iso) {
    var date = new Date(iso);
    function pad(n, width) { return String(n).padStart(width, '0'); }
    return pad(date.getHours(), 2) + ':' + pad(date.getMinutes(), 2) + ':' + pad(date.getSeconds(), 2) + '.' + pad(date.getMilliseconds(), 3);
  }

  function decisionBadge(decision, status) {
    var label = decision === 'dry_run_deny' ? 'dry-run deny' : decision;
    return make('span', 'badge ' + decision, label + ' ' + status);
  }

  function render() {
    var body = el('decisions').tBodies[0];
    var rows = document.createDocumentFragment();
    var services = {};
    state.rows.forEach(function (record) {
      if (record.service) services[record.service] = true;
      var row = make('tr');
      row.tabIndex = 0;
      row.dataset.id = record.id;
      if (record.id === state.selected) row.className = 'selected';
      row.appendChild(make('td', 'time', formatTime(record.time)));
      var decision = make('td');
      decision.appendChild(decisionBadge(record.decision, record.status));
      row.appendChild(decision);
      row.appendChild(make('td', '', record.service || '—'));
      row.appendChild(requestCell(record));
      row.appendChild(make('td', '', subjectText(record)));
      row.appendChild(make('td', '', record.reason));
      row.appendChild(make('td', '', record.rule || ''));
      row.appendChild(make('td', 'num', record.latencyMs.toFixed(2)));
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
    el('empty').hidden = state.rows.length > 0;
    el('count').textContent = state.rows.length + ' shown';
    var list = el('services');
    var known = Object.keys(services).sort();
    list.replaceChildren.apply(list, known.map(function (name) { var option = make('option'); option.value = name; return option; }));
  }

  // A Check: its method and path (the host on hover). An access decision: its action and resource, tagged.
  function requestCell(record) {
    if (record.kind !== 'access') {
      var cell = make('td', '', record.method + ' ' + (record.path || record.requestPath));
      cell.title = record.host;
      return cell;
    }
    var access = make('td', 'access');
    access.title = 'access question (AuthZEN)';
    access.appendChild(make('span', 'kind', 'AuthZEN'));
    access.appendChild(document.createTextNode(' ' + record.action + ' ' + record.resourceType + ':' + record.resourceId));
    return access;
  }

  function subjectText(record) {
    if (record.kind === 'access') return record.subjectType + ':' + record.subject;
    return record.subject || 'anonymous';
  }

  function explanationBlock(target, lines) {
    target.replaceChildren.apply(target, lines.map(function (line) {
      var kind = /not applied/.test(line) ? 'failed' : /^\s+\S+\s+\S+\s+applied/.test(line) ? 'applied' : /^decision /.test(line) ? 'decision' : '';
      return make('span', kind, line + '\n');
    }));
  }

  function field(list, name, value) {
    if (value === undefined || value === null || value === '') return;
    list.appendChild(make('dt', '', name));
    list.appendChild(make('dd', '', Array.isArray(value) ? (value.length ? value.join(', ') : 'none') : value));
  }

  function showDetail(shown) {
    el('detail-hint').hidden = shown;
    el('detail-explanation').hidden = !shown;
    el('close-detail').hidden = !shown;
    if (!shown) el('detail-fields').replaceChildren();
  }

  function select(id) {
    state.selected = id;
    Array.prototype.forEach.call(el('decisions').tBodies[0].rows, function (row) { row.classList.toggle('selected', row.dataset.id === id); });
    getJson(BASE + 'decisions/' + encodeURIComponent(id)).then(function (record) {
      if (state.selected !== id) return;
      var fields = el('detail-fields');
      fields.replaceChildren();
      field(fields, 'decision id', record.id);
      field(fields, 'time', new Date(record.time).toISOString());
      if (record.kind === 'access') field(fields, 'asked by', 'an AuthZEN caller (access question)');
      field(fields, 'request id', record.requestId);
      field(fields, 'credential', record.credential);
      field(fields, 'client', record.clientAddress);
      field(fields, 'peer', record.peer);
      field(fields, 'policy', record.policyVersion);
      field(fields, 'latency', record.latencyMs + ' ms');
      explanationBlock(el('detail-explanation'), record.explanation);
      showDetail(true);
    }).catch(function (error) {
      el('detail-fields').replaceChildren();
      explanationBlock(el('detail-explanation'), [error.message]);
      showDetail(true);
    });
  }

  function tryRequest(event) {
    event.preventDefault();
    var form = event.target;
    var body = {};
    ['method', 'service', 'host', 'path', 'subject', 'issuer', 'source', 'now'].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value !== '') body[name] = value;
    });
    var error = el('try-error');
    error.hidden = true;
    var failed = ['claims', 'headers'].some(function (name) {
      var text = form.elements[name].value.trim();
      if (text === '') return false;
      try { body[name] = JSON.parse(text); return false; } catch (e) {
        error.textContent = name.charAt(0).toUpperCase() + name.slice(1) + ': not JSON (' + e.message + ')';
        error.hidden = false;
        return true;
      }
    });
    if (failed) return;
    if (!form.elements.rolesFromStore.checked) {
      body.roles = form.elements.roles.value.split(',').map(function (role) { return role.trim(); }).filter(Boolean);
    }
    getJson(BASE + 'try', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) })
      .then(function (result) {
        var target = el('try-result');
        explanationBlock(target, result.explanation);
        target.hidden = false;
      })
      .catch(function (failure) { error.textContent = failure.message; error.hidden = false; el('try-result').hidden = true; });
  }

  function connect() {
    var events = new EventSource(BASE + 'events');
    events.addEventListener('open', function () { state.connected = true; describeStatus(); });
    events.addEventListener('ready', function () { fetchNewer(); });
    events.addEventListener('decisions', function () { fetchNewer(); });
    events.addEventListener('error', function () { state.connected = false; describeStatus(); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var timer = null;
    var filters = el('filters');
    filters.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(reload, 200); });
    filters.addEventListener('reset', function () { setTimeout(reload, 0); });
    filters.addEventListener('submit', function (event) { event.preventDefault(); reload(); });
    el('decisions').tBodies[0].addEventListener('click', function (event) {
      var row = event.target.closest('tr');
      if (row && row.dataset.id) select(row.dataset.id);
    });
    el('decisions').tBodies[0].addEventListener('keydown', function (event) {
      var row = event.target.closest('tr');
      if (event.key === 'Enter' && row && row.dataset.id) select(row.dataset.id);
    });
    el('close-detail').addEventListener('click', function () { showDetail(false); state.selected = null; render(); });
    el('live').addEventListener('click', function (event) {
      state.live = !state.live;
      event.target.textContent = state.live ? 'Pause' : 'Resume';
      event.target.setAttribute('aria-pressed', String(state.live));
      describeStatus();
      if (state.live) reload();
    });
    var rolesFromStore = el('try-form').elements.rolesFromStore;
    var roles = el('try-form').elements.roles;
    roles.disabled = rolesFromStore.checked;
    rolesFromStore.addEventListener('change', function () { roles.disabled = rolesFromStore.checked; });
    el('try-form').addEventListener('submit', tryRequest);
    reload().then(connect);
  });
})();
`;
