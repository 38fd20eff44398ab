/** Where a Kea server takes commands over HTTP: its own socket (3.0) or the control agent (2.6, `service`). */
export interface KeaHttpEndpoint {
  url: string;
  service?: string;
}

/** Kea's answer to one command (Kea ARM, "Management API"): 0 success, 3 empty. */
export interface KeaHttpAnswer<T> {
  result: number;
  text?: string;
  arguments?: T;
}

/**
 * Sends one command to a Kea server over HTTP, within 3 s, and returns its answer (the control
 * agent wraps it in a list, Kea 3.0's own socket too). Throws when nothing answers.
 */
export async function keaHttpCommand<T>(
  endpoint: KeaHttpEndpoint,
  command: string,
  args?: Record<string, unknown>,
): Promise<KeaHttpAnswer<T>> {
  const res = await fetch(endpoint.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      command,
      ...(endpoint.service ? { service: [endpoint.service] } : {}),
      ...(args ? { arguments: args } : {}),
    }),
    signal: AbortSignal.timeout(3000),
  });
  const answers = (await res.json()) as KeaHttpAnswer<T>[] | KeaHttpAnswer<T>;
  const answer = Array.isArray(answers) ? answers[0] : answers;
  if (!answer) throw new Error(`no answer to ${command}`);
  return answer;
}
