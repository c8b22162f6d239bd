// vigil UI: the case's identities as pseudonyms, and the audited, time-limited reveal (of a pseudonym, or
// of the masked free text of an audit entry or a history line). No framework.
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function showError(section, text) {
    var p = section.querySelector(".reveal-error");
    p.textContent = text;
    p.hidden = !text;
  }

  // Show the clear value, then hide it again after `seconds` (or at the server's expiry, if sooner).
  function show(output, button, data) {
    var until = Math.min(Date.now() + data.show_seconds * 1000, Date.parse(data.expires_at));
    output.textContent = data.value;
    output.classList.add("revealed-value");
    output.hidden = false;
    button.disabled = true;
    var timer = setInterval(function () {
      var left = until - Date.now();  // ms: rounding to seconds here hid the value up to 0.5 s early
      if (left > 0) {
        button.textContent = "Hidden in " + Math.ceil(left / 1000) + " s";
        return;
      }
      clearInterval(timer);
      output.textContent = "";
      output.classList.remove("revealed-value");
      output.hidden = true;
      button.disabled = false;
      button.textContent = "Reveal again";
    }, 250);
  }

  // POST a JSON body with the session's CSRF token; resolves to {ok, data} (data: the JSON answer).
  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function reveal(section, row, identity) {
    var form = section.querySelector("form.reveal-identity");
    var body = {
      case_id: Number(section.dataset.case),
      pseudonym: identity.pseudonym,
      reason_code: form.elements.reason_code.value,
      reason_text: form.elements.reason_text.value
    };
    var button = row.querySelector("button.reveal-identity");
    postJson("/api/v1/privacy/reveal", body)
      .then(function (result) {
        if (!result.ok) {
          showError(section, result.data.reason || "reveal refused");
          return;
        }
        showError(section, "");
        show(row.querySelector("output"), button, result.data);
      })
      .catch(function (err) { showError(section, "reveal failed: " + err.message); });
  }

  function fill(section, data) {
    var tbody = section.querySelector("table.identities tbody");
    var form = section.querySelector("form.reveal-identity");
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    if (data.may_reveal) {
      Object.keys(data.reason_codes).forEach(function (code) {
        var option = document.createElement("option");
        option.value = code;
        option.textContent = code.replace(/_/g, " ");
        option.title = data.reason_codes[code];
        form.elements.reason_code.appendChild(option);
      });
      form.hidden = false;
    }
    data.identities.forEach(function (identity) {
      var tr = document.createElement("tr");
      tr.dataset.pseudonym = identity.pseudonym;
      tr.appendChild(cell(identity.role));
      var code = document.createElement("code");
      code.textContent = identity.pseudonym;
      var td = document.createElement("td");
      td.appendChild(code);
      var output = document.createElement("output");
      output.hidden = true;
      td.appendChild(document.createTextNode(" "));
      td.appendChild(output);
      tr.appendChild(td);
      var action = document.createElement("td");
      if (data.may_reveal) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "reveal-identity";
        button.textContent = "Reveal";
        button.addEventListener("click", function () { reveal(section, tr, identity); });
        action.appendChild(button);
      }
      tr.appendChild(action);
      tbody.appendChild(tr);
    });
    if (!data.identities.length) {
      var none = document.createElement("tr");
      none.appendChild(cell("No identities.", ""));
      tbody.appendChild(none);
    }
  }

  // Masked free text (an audit entry, a history line): its reason form is #reveal-record.
  function revealRecord(button) {
    var form = document.getElementById("reveal-record");
    var error = document.querySelector(".reveal-record-error");
    var body = {
      record: button.dataset.record,
      id: Number(button.dataset.id),
      reason_code: form.elements.reason_code.value,
      reason_text: form.elements.reason_text.value
    };
    postJson("/api/v1/privacy/reveal-record", body)
      .then(function (result) {
        error.textContent = result.ok ? "" : result.data.reason || "reveal refused";
        error.hidden = result.ok;
        if (!result.ok) return;
        var data = result.data;
        var shown = { value: JSON.stringify(data.text), show_seconds: data.show_seconds, expires_at: data.expires_at };
        show(button.nextElementSibling, button, shown);
      })
      .catch(function (err) { error.textContent = "reveal failed: " + err.message; error.hidden = false; });
  }

  if (window.vigilPrivacyLoaded) return;  // included by more than one part of a page
  window.vigilPrivacyLoaded = true;

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("reveal-record");
    if (form) form.addEventListener("submit", function (event) { event.preventDefault(); });
    document.querySelectorAll("button.reveal-record").forEach(function (button) {
      button.addEventListener("click", function () { revealRecord(button); });
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("identities");
    if (!section) return;
    fetch("/api/v1/privacy/cases/" + section.dataset.case + "/identities", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { fill(section, data); })
      .catch(function (err) { showError(section, "identities unavailable: " + err.message); });
  });
})();
