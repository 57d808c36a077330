// The migrations of migrations/, embedded into the build (a compiled binary needs no files beside
// it). A unit test checks that this list and the folder agree.
import m0001 from "../../migrations/0001_initial.sql" with { type: "text" };
import m0002 from "../../migrations/0002_client_token_watermark.sql" with { type: "text" };
import m0003 from "../../migrations/0003_consent_claims.sql" with { type: "text" };
import m0004 from "../../migrations/0004_login_throttle.sql" with { type: "text" };
import m0005 from "../../migrations/0005_authn_factors.sql" with { type: "text" };
import m0006 from "../../migrations/0006_device_codes.sql" with { type: "text" };
import m0007 from "../../migrations/0007_resources_registration.sql" with { type: "text" };
import m0008 from "../../migrations/0008_refresh_rotation.sql" with { type: "text" };
import m0009 from "../../migrations/0009_par.sql" with { type: "text" };
import m0010 from "../../migrations/0010_dpop.sql" with { type: "text" };
import m0011 from "../../migrations/0011_mail_selfservice.sql" with { type: "text" };
import m0012 from "../../migrations/0012_upstream_idps.sql" with { type: "text" };
import m0013 from "../../migrations/0013_signup.sql" with { type: "text" };
import m0014 from "../../migrations/0014_branding.sql" with { type: "text" };
import m0015 from "../../migrations/0015_client_change_notify.sql" with { type: "text" };
import m0016 from "../../migrations/0016_upstream_logout_keys.sql" with { type: "text" };
import m0017 from "../../migrations/0017_code_exchange.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { version: 1, name: "0001_initial", sql: m0001 },
  { version: 2, name: "0002_client_token_watermark", sql: m0002 },
  { version: 3, name: "0003_consent_claims", sql: m0003 },
  { version: 4, name: "0004_login_throttle", sql: m0004 },
  { version: 5, name: "0005_authn_factors", sql: m0005 },
  { version: 6, name: "0006_device_codes", sql: m0006 },
  { version: 7, name: "0007_resources_registration", sql: m0007 },
  { version: 8, name: "0008_refresh_rotation", sql: m0008 },
  { version: 9, name: "0009_par", sql: m0009 },
  { version: 10, name: "0010_dpop", sql: m0010 },
  { version: 11, name: "0011_mail_selfservice", sql: m0011 },
  { version: 12, name: "0012_upstream_idps", sql: m0012 },
  { version: 13, name: "0013_signup", sql: m0013 },
  { version: 14, name: "0014_branding", sql: m0014 },
  { version: 15, name: "0015_client_change_notify", sql: m0015 },
  { version: 16, name: "0016_upstream_logout_keys", sql: m0016 },
  { version: 17, name: "0017_code_exchange", sql: m0017 },
];
