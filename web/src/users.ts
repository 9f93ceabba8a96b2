import { ref } from 'vue';
import { api } from './api';

export interface Account {
  id: string; username: string; displayName: string; roles: string[]; scope: { fonds: '*' | string[] };
  clearance: string; disabled: boolean; local: boolean; lastLoginAt: string | null; createdAt: string;
}

/** Accounts, one server page at a time. */
export function useAccounts(pageSize = 20) {
  const rows = ref<Account[]>([]);
  const total = ref(0);
  const page = ref(1);
  const q = ref('');
  async function load() {
    const res = await api<{ total: number; users: Account[] }>('/api/v1/users', { query: { offset: (page.value - 1) * pageSize, limit: pageSize, q: q.value || undefined } });
    rows.value = res.users;
    total.value = res.total;
  }
  return { rows, total, page, q, load, pageSize };
}
