// Names for the codes the server stores (类别 "6" → 工伤保险待遇类, 险种 GS → 工伤保险), fetched once.
import { ref } from 'vue';
import { api } from './api';
import { locale } from './i18n';

export interface Vocabulary {
  categories: Record<string, [string, string]>;
  insurance: Record<string, [string, string]>;
  retention: Record<string, [string, string]>;
  items: Record<string, [string, string]>;
  clearance: string[];
}

export const vocabulary = ref<Vocabulary | null>(null);
let loading: Promise<void> | null = null;

export function loadVocabulary(): Promise<void> {
  loading ??= api<Vocabulary>('/api/v1/vocabulary')
    .then((v) => {
      vocabulary.value = v;
    })
    .catch(() => {
      loading = null;
    });
  return loading;
}

export type VocabularyKind = 'categories' | 'insurance' | 'retention' | 'items';

/** The name of a code in the current language; the code itself when unknown. */
export function nameOf(kind: VocabularyKind, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—';
  const pair = vocabulary.value?.[kind]?.[code];
  return pair ? (locale.value === 'zh' ? pair[0] : pair[1]) : code;
}
