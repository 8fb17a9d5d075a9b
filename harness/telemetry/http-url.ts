// The checks every telemetry endpoint flag shares: a parseable http(s) URL,
// with an error naming the flag and an example of what it expects.

export function parseHttpUrl(flag: string, text: string, example: string, fail: (message: string) => Error, what = ''): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw fail(`${flag}: '${text}' is not a URL (expected e.g. ${example})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail(`${flag}: '${text}' must be an http:// or https:// URL${what}, not ${u.protocol}`);
  return u;
}
