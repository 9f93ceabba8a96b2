// Who is signed in, and what their roles let them open. The server decides every permission; the
// UI only hides what a role can never use (三员分立: each administrator sees only their pages).
import { ref } from 'vue';
import { api } from './api';

export interface Me {
  id: string;
  username: string;
  roles: string[];
  clearance: string;
  scope?: { fonds: '*' | string[] };
  /** What the roles allow (the server's policy table); the server still decides every request. */
  actions?: string[];
}

export const me = ref<Me | null>(null);

/** API paths this server offers (from its OpenAPI document): pages whose API is absent stay hidden. */
export const apiPaths = ref<Set<string> | null>(null);

export async function loadMe(): Promise<Me | null> {
  try {
    me.value = await api<Me>('/api/v1/auth/me', { quiet401: true });
  } catch {
    me.value = null;
  }
  if (me.value && !apiPaths.value) {
    try {
      apiPaths.value = new Set(Object.keys((await api<{ paths: Record<string, unknown> }>('/api/v1/openapi.json')).paths ?? {}));
    } catch {
      apiPaths.value = new Set();
    }
  }
  return me.value;
}

/**
 * Whether the signed-in person's roles allow `action` at all. A control that would only be refused
 * is not offered: a refused request is an error for the person and a denied entry in the audit trail.
 */
export function can(action: string): boolean {
  return !!me.value?.actions?.includes(action);
}

export function hasRole(...roles: string[]): boolean {
  return !!me.value && me.value.roles.some((r) => roles.includes(r));
}
