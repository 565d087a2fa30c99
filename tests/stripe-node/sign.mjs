// Prints the Stripe-Signature header that Stripe's official library makes for stdin's payload.
// Usage: node sign.mjs <secret> <unix timestamp> < payload
import Stripe from 'stripe';

const [secret, timestamp] = process.argv.slice(2);
if (!secret || !timestamp) {
  console.error('usage: node sign.mjs <secret> <unix timestamp> < payload');
  process.exit(2);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const payload = Buffer.concat(chunks).toString('utf8');
const stripe = new Stripe('sk_test_crosscheck_unused');
process.stdout.write(
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(timestamp) }),
);
