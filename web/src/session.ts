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
}

export const me = ref<Me | null>(null);

export async function loadMe(): Promise<Me | null> {
  try {
    me.value = await api<Me>('/api/v1/auth/me', { quiet401: true });
  } catch {
    me.value = null;
  }
  return me.value;
}

export function hasRole(...roles: string[]): boolean {
  return !!me.value && me.value.roles.some((r) => roles.includes(r));
}
