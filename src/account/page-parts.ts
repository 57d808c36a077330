// What the self-service pages (sign-up, password reset, email verification and change) share: the
// "Back to sign-in" link, and the page a mailed link opens.
import { escapeHtml as h } from "../http/html";
import type { MessageKey } from "../i18n";
import { layout, type PageUi } from "../interaction/pages";

export function backLink(ui: PageUi, url?: string): string {
  return url ? `<p class="links"><a href="${h(url)}">${h(ui.t("common.back_to_signin"))}</a></p>` : "";
}

/** Opening a mailed link shows one button that posts its token: a mail scanner that fetches links
 *  changes nothing. `bodyHtml` is already escaped. */
export function mailedLinkPage(ui: PageUi, v: { title: MessageKey; bodyHtml: string; action: string; token: string; submit: MessageKey }): string {
  const { t } = ui;
  return layout(
    t(v.title),
    `<h1>${h(t(v.title))}</h1><p class="muted">${v.bodyHtml}</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="token" value="${h(v.token)}">
<div class="actions"><button type="submit" class="primary" autofocus>${h(t(v.submit))}</button></div></form>`,
    { ui },
  );
}
