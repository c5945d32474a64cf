// Every provider by id: the one table parse, verify and re-sign look providers up in.

import { discord, sendgrid } from "./asymmetric";
import { github, intercom, linear, pagerduty, shopify, typeform, vercel } from "./body-signed";
import { hmacRecipe } from "./recipe";
import { standardWebhooks } from "./standard-webhooks";
import { calendly, paddle, slack, stripe, twitch, zoom } from "./timestamped";
import type { Provider, ProviderId } from "./types";
import { gitlab, mailgun } from "./unbound";
import { square, twilio } from "./url-bound";

/** The verifier behind each provider id. */
export const PROVIDERS: Record<ProviderId, Provider> = {
  github,
  stripe,
  slack,
  "standard-webhooks": standardWebhooks,
  shopify,
  twilio,
  square,
  linear,
  discord,
  twitch,
  paddle,
  zoom,
  sendgrid,
  mailgun,
  intercom,
  pagerduty,
  gitlab,
  typeform,
  calendly,
  vercel,
  hmac: hmacRecipe,
};

/** Other names users may type for a provider. */
export const ALIASES: Record<string, ProviderId> = { svix: "standard-webhooks" };

/** Whether a word is a provider id. */
export function isProviderId(word: string): word is ProviderId {
  return Object.hasOwn(PROVIDERS, word);
}
