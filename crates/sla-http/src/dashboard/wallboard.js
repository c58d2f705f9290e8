// The wallboard's script: follows the live stream and updates the page in place, reads today's
// figures as the server refreshes them, says every second how old the figures are, reconnects
// after a dropped stream, and pages through the cards when they do not fit the screen.
// Data reaches the page only through textContent and attributes, never as markup.
(() => {
  'use strict';
  const body = document.body;
  const board = document.getElementById('board');
  const template = document.getElementById('card');
  const ageEl = document.getElementById('age');
  const linkEl = document.getElementById('link');
  const pageEl = document.getElementById('page');
  const alertEl = document.getElementById('alert');
  const waitingEl = document.getElementById('waiting');
  const num = (text) => Number(text || 0);
  const staleAfter = num(body.dataset.staleAfter) * 1000;
  const dataEvery = Math.max(2, num(body.dataset.dataEvery)) * 1000;
  // The server's clock minus ours: ages are measured on the server's clock, so a wallboard
  // whose own clock is off still shows the right age.
  let offset = num(body.dataset.serverNow) - Date.now();
  let asOf = body.dataset.asOf ? num(body.dataset.asOf) : null;
  let liveError = null;
  let todayError = null;
  let today = null;
  let connected = false;

  // A percent with one decimal, as the server writes it: its ties (x.x25 and x.x75 are exact
  // in binary) go to the even digit.
  const percentText = (p) => {
    if (p === null || p === undefined) return 'n/a';
    const quarter = p * 4;
    if (Number.isInteger(quarter) && quarter % 2 === 1) {
      let tenths = Math.floor(p * 10);
      if (tenths % 2 === 1) tenths += 1;
      return (tenths / 10).toFixed(1) + '%';
    }
    return p.toFixed(1) + '%';
  };
  // A wait as the server writes it: 4.2s, 1m05s, 2h03m.
  const waitText = (ms) => {
    if (ms === null || ms === undefined) return 'n/a';
    const tenths = Math.floor((ms + 50) / 100);
    if (tenths < 600) return `${Math.floor(tenths / 10)}.${tenths % 10}s`;
    const seconds = Math.floor((ms + 500) / 1000);
    if (seconds < 3600) {
      return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
    }
    const minutes = Math.floor((ms + 30000) / 60000);
    return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  };
  const stateClass = (percent, met) => {
    if (percent === null || percent === undefined) return 'na';
    if (met === true) return 'met';
    if (met === false) return 'missed';
    return 'untargeted';
  };
  const thresholdText = (ms) => {
    const parts = [];
    let rest = ms;
    for (const [unit, size] of [['h', 3600000], ['m', 60000], ['s', 1000]]) {
      if (rest >= size) {
        parts.push(Math.floor(rest / size) + unit);
        rest %= size;
      }
    }
    if (rest > 0 || parts.length === 0) parts.push(rest + 'ms');
    return parts.join('');
  };
  const targetText = (level) => {
    const within = level.threshold_ms === null ? null : thresholdText(level.threshold_ms);
    if (level.target_percent !== null && within !== null) return `${level.target_percent}% in ${within}`;
    if (level.target_percent !== null) return `target ${level.target_percent}%`;
    if (within !== null) return `within ${within}`;
    return '';
  };
  const setText = (el, text) => {
    if (el && el.textContent !== text) el.textContent = text;
  };
  const field = (root, name) => root.querySelector(`[data-f="${name}"]`);
  const keyOf = (row) => `${row.queue_id}|${row.media_type || ''}`;
  const cardOf = (key) => {
    for (const card of board.children) if (card.dataset.key === key) return card;
    return null;
  };
  const setClass = (el, base, state) => {
    if (el) el.className = `${base} ${state}`;
  };

  const ageText = (ms) => {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    if (seconds < 60) return `data ${seconds} s old`;
    if (seconds < 3600) return `data ${Math.floor(seconds / 60)} min old`;
    return `data ${Math.floor(seconds / 3600)} h old`;
  };
  const tick = () => {
    if (asOf === null) {
      setText(ageEl, 'waiting for the first live figures');
    } else {
      const age = Date.now() + offset - asOf;
      setText(ageEl, ageText(age));
      body.classList.toggle('stale', age > staleAfter || liveError !== null);
    }
    setText(linkEl, connected ? 'live' : 'reconnecting…');
    const error = liveError !== null
      ? `The last live refresh failed; showing the last good figures: ${liveError}`
      : todayError !== null ? `The last refresh of today's figures failed: ${todayError}` : '';
    setText(alertEl, error);
    alertEl.hidden = error === '';
  };

  const newCard = (row) => {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.key = keyOf(row);
    card.dataset.queueId = row.queue_id;
    const h2 = card.querySelector('h2');
    setText(h2, row.queue_name);
    h2.title = row.queue_name;
    const media = card.querySelector('.media');
    setText(media, row.media_type || '');
    media.hidden = !row.media_type;
    return card;
  };

  const applyLevel = (card, level) => {
    const el = card.querySelector(`.level[data-objective="${CSS.escape(level.objective)}"]`);
    if (!el) return;
    el.hidden = false;
    setText(field(el, 'target'), targetText(level));
    const rolling = field(el, 'rolling');
    setText(rolling, percentText(level.percent));
    setClass(rolling, 'rolling', stateClass(level.percent, level.met_target));
    const projected = field(el, 'projected');
    setText(projected, percentText(level.projected_percent));
    const projectedMet = level.target_percent === null || level.projected_percent === null
      ? null : level.projected_percent >= level.target_percent;
    setClass(projected.parentElement, 'projected', stateClass(level.projected_percent, projectedMet));
    const over = field(el, 'over');
    setText(over, `${level.waiting_over_threshold} over`);
    over.hidden = level.waiting_over_threshold === 0;
  };

  const applyRow = (card, row) => {
    setText(field(card, 'waiting'), String(row.live.waiting));
    setText(field(card, 'longest'), row.live.waiting === 0 ? '–' : waitText(row.live.longest_waiting_ms));
    const thresholds = row.service_levels.map((l) => l.threshold_ms).filter((t) => t !== null);
    const shortest = thresholds.length ? Math.min(...thresholds) : null;
    card.querySelector('.stat.longest').classList.toggle(
      'over', row.live.waiting > 0 && shortest !== null && row.live.longest_waiting_ms > shortest);
    setText(field(card, 'agents'), String(row.live.on_queue_agents));
    setText(field(card, 'interacting'), String(row.live.interacting));
    setText(field(card, 'asa'), waitText(row.kpis.asa_ms));
    setText(field(card, 'abandon'), percentText(row.kpis.abandon_percent));
    setText(field(card, 'offered'), String(row.counts.offered));
    const present = new Set(row.service_levels.map((l) => l.objective));
    for (const el of card.querySelectorAll('.level')) {
      if (!present.has(el.dataset.objective)) el.hidden = true;
    }
    for (const level of row.service_levels) applyLevel(card, level);
  };

  const applyTotals = (doc) => {
    setText(document.querySelector('.total.waiting [data-t="waiting"]'), String(doc.total.live.waiting));
    for (const level of doc.total.service_levels) {
      const el = document.querySelector(`.total[data-objective="${CSS.escape(level.objective)}"]`);
      if (!el) continue;
      setText(el.querySelector('[data-t="rolling"]'), percentText(level.percent));
      el.className = `total ${stateClass(level.percent, level.met_target)}`;
    }
  };

  let lastKeys = '';
  const applyDocument = (doc) => {
    asOf = Date.parse(doc.as_of);
    // For whoever inspects the page (and its tests): the last document shown.
    window.lastAsOf = doc.as_of;
    liveError = null;
    const keys = [];
    let previous = null;
    for (const row of doc.queues) {
      const key = keyOf(row);
      keys.push(key);
      let card = cardOf(key);
      if (!card) card = newCard(row);
      // Cards follow the document's order; moving one only when it is out of place keeps the
      // page still.
      const expected = previous ? previous.nextElementSibling : board.firstElementChild;
      if (expected !== card) board.insertBefore(card, expected);
      applyRow(card, row);
      previous = card;
    }
    const wanted = new Set(keys);
    for (const card of [...board.children]) if (!wanted.has(card.dataset.key)) card.remove();
    if (waitingEl) waitingEl.hidden = keys.length > 0;
    applyTotals(doc);
    const joined = keys.join(',');
    if (joined !== lastKeys) {
      lastKeys = joined;
      if (today) applyToday(today);
      layout();
    }
    tick();
  };

  const applyBars = (chart, level) => {
    const bars = chart.querySelector('.bars');
    const goal = bars.querySelector('.goal');
    goal.hidden = level.goal === null;
    if (level.goal !== null) goal.style.bottom = `${level.goal}%`;
    const existing = bars.querySelectorAll(':scope > div:not(.goal)');
    if (existing.length !== level.bars.length) {
      for (const el of existing) el.remove();
      for (let i = 0; i < level.bars.length; i += 1) {
        const el = document.createElement('div');
        el.appendChild(document.createElement('span'));
        bars.appendChild(el);
      }
    }
    bars.querySelectorAll(':scope > div:not(.goal)').forEach((el, i) => {
      const bar = level.bars[i];
      if (!bar) return;
      el.className = `bar ${bar.c}`;
      el.style.height = `${bar.h}%`;
      el.title = bar.t;
      setText(el.firstElementChild, bar.v);
    });
  };

  const applyTicks = (card, ticks) => {
    const box = card.querySelector('.ticks');
    if (!box) return;
    const spans = box.querySelectorAll('span');
    if (spans.length !== ticks.length) {
      for (const el of spans) el.remove();
      for (let i = 0; i < ticks.length; i += 1) box.appendChild(document.createElement('span'));
    }
    box.querySelectorAll('span').forEach((el, i) => {
      el.style.left = `${ticks[i].left}%`;
      setText(el, ticks[i].text);
    });
  };

  const applyToday = (data) => {
    today = data;
    offset = data.server_now_ms - Date.now();
    liveError = data.live_error;
    todayError = data.today_error;
    for (const card of board.children) {
      const levels = data.rows[card.dataset.key];
      applyTicks(card, data.ticks);
      if (!levels) continue;
      for (const [objective, level] of Object.entries(levels)) {
        const el = card.querySelector(`.level[data-objective="${CSS.escape(objective)}"]`);
        if (!el) continue;
        const cell = field(el, 'today');
        setText(cell, level.text);
        setClass(cell, 'today', level.class);
        cell.dataset.percent = level.exact;
        applyBars(el.querySelector('.chart'), level);
      }
    }
    tick();
  };

  const readToday = async () => {
    try {
      const response = await fetch('dashboard.json', { cache: 'no-store' });
      if (response.ok) applyToday(await response.json());
    } catch (e) {
      // The stream's state already says when the service cannot be reached.
    }
  };

  // EventSource reconnects by itself after a dropped connection, after the server's retry
  // hint; an answer it cannot use (a 503 when the stream is full, a restart in progress) ends
  // it for good, so the page starts a new one after a pause that grows up to a minute.
  let pause = 2000;
  const connect = () => {
    const source = new EventSource('api/v1/live/stream');
    source.onopen = () => {
      connected = true;
      pause = 2000;
      tick();
    };
    source.onmessage = (event) => {
      connected = true;
      try {
        applyDocument(JSON.parse(event.data));
      } catch (e) {
        // A document the page cannot read leaves the last one shown, growing older.
      }
    };
    source.onerror = () => {
      connected = false;
      tick();
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, pause);
        pause = Math.min(pause * 2, 60000);
      }
    };
  };

  // Paging: on a wide screen (a wallboard), cards that do not fit below the header are shown
  // a screenful at a time, turning every 15 s; a narrow screen scrolls instead.
  let pages = [];
  let pageIndex = 0;
  const layout = () => {
    const cards = [...board.children];
    for (const card of cards) card.hidden = false;
    pages = [];
    if (window.innerWidth < 1000 || cards.length === 0) {
      setText(pageEl, '');
      return;
    }
    const footer = document.querySelector('footer');
    const room = window.innerHeight - board.getBoundingClientRect().top
      - (footer ? footer.offsetHeight + 12 : 0);
    let start = 0;
    let top = cards[0].offsetTop;
    cards.forEach((card, i) => {
      if (card.offsetTop + card.offsetHeight - top > room && i > start) {
        pages.push([start, i]);
        start = i;
        top = card.offsetTop;
      }
    });
    pages.push([start, cards.length]);
    if (pages.length === 1) {
      pages = [];
      setText(pageEl, '');
      return;
    }
    pageIndex %= pages.length;
    showPage();
  };
  const showPage = () => {
    const cards = [...board.children];
    const [from, to] = pages[pageIndex];
    cards.forEach((card, i) => {
      card.hidden = i < from || i >= to;
    });
    setText(pageEl, `page ${pageIndex + 1} of ${pages.length}`);
  };
  setInterval(() => {
    if (pages.length > 1) {
      pageIndex = (pageIndex + 1) % pages.length;
      showPage();
    }
  }, 15000);
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(layout, 200);
  });

  lastKeys = [...board.children].map((c) => c.dataset.key).join(',');
  layout();
  tick();
  setInterval(tick, 1000);
  setInterval(readToday, dataEvery);
  connect();
})();
