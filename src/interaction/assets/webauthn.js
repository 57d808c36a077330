// Authly's WebAuthn glue (served from /assets/webauthn.js, script-src 'self'; no inline script,
// no third party). Forms marked data-webauthn="get" or "create" carry the options in data-
// attributes; the result is put, as JSON, into the form's hidden `credential` field and posted.
// The forms are rendered hidden: without JavaScript or WebAuthn they stay hidden and the other
// sign-in methods remain.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toB64u(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromB64u(str) {
    var s = str.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function list(value) {
    return (value || "").split(",").filter(Boolean).map(function (id) { return { type: "public-key", id: fromB64u(id) }; });
  }
  function say(form, text) {
    var box = form.querySelector("[data-webauthn-status]");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }
  function assertionJson(c) {
    var r = c.response;
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64u(r.clientDataJSON), authenticatorData: toB64u(r.authenticatorData),
        signature: toB64u(r.signature), userHandle: r.userHandle ? toB64u(r.userHandle) : undefined,
      },
    };
  }
  function attestationJson(c) {
    var r = c.response;
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64u(r.clientDataJSON), attestationObject: toB64u(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [],
      },
    };
  }
  function submit(form, json) {
    form.querySelector("input[name=credential]").value = JSON.stringify(json);
    form.submit();
  }
  function failed(form, err) {
    if (err && err.name === "AbortError") return;
    say(form, form.getAttribute("data-error") || "The passkey or security key did not answer. Try again, or use another way to sign in.");
  }

  function setUpGet(form) {
    var d = form.dataset, pending = null;
    function options(signal, mediation) {
      var o = { publicKey: { challenge: fromB64u(d.challenge), rpId: d.rpId, allowCredentials: list(d.allow), userVerification: d.uv || "required", timeout: 120000 } };
      if (signal) o.signal = signal;
      if (mediation) o.mediation = mediation;
      return o;
    }
    var button = form.querySelector("button[data-webauthn-start]");
    form.hidden = false;
    if (button) {
      button.addEventListener("click", function () {
        if (pending) pending.abort();
        pending = null;
        say(form, "");
        navigator.credentials.get(options()).then(function (c) { submit(form, assertionJson(c)); }, function (e) { failed(form, e); });
      });
    }
    // Conditional mediation: the browser offers passkeys in the username field's autofill.
    if (d.conditional === "true" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) return;
        pending = new AbortController();
        // The user did not ask for this one: a failure (no passkey here, cancelled) stays silent.
        navigator.credentials.get(options(pending.signal, "conditional")).then(function (c) { submit(form, assertionJson(c)); }, function () {});
      });
    }
  }

  function setUpCreate(form) {
    var d = form.dataset;
    var button = form.querySelector("button[data-webauthn-start]");
    if (!button) return;
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      if (form.querySelector("input[name=credential]").value) return;
      ev.preventDefault();
      say(form, "");
      navigator.credentials.create({
        publicKey: {
          challenge: fromB64u(d.challenge),
          rp: { id: d.rpId, name: d.rpName },
          user: { id: fromB64u(d.userId), name: d.userName, displayName: d.userDisplayName },
          pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -8 }, { type: "public-key", alg: -257 }],
          authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
          attestation: "none",
          excludeCredentials: list(d.exclude),
          extensions: { credProps: true },
          timeout: 120000,
        },
      }).then(function (c) { submit(form, attestationJson(c)); }, function (e) { failed(form, e); });
    });
  }

  var forms = document.querySelectorAll("form[data-webauthn]");
  for (var i = 0; i < forms.length; i++) {
    if (forms[i].dataset.webauthn === "create") setUpCreate(forms[i]);
    else setUpGet(forms[i]);
  }
})();
