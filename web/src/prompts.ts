// Confirmation and second-factor prompts: each names what the action will do.
import { ElMessageBox } from 'element-plus';
import { t } from './i18n';

/** Asks for a fresh 6-digit TOTP code; null when the person cancels. */
export async function askCode(message: string, title: string): Promise<string | null> {
  try {
    const r = await ElMessageBox.prompt(message, title, {
      confirmButtonText: t('confirm'),
      cancelButtonText: t('cancel'),
      inputPattern: /^\d{6}$/,
      inputErrorMessage: t('codePrompt'),
      inputPlaceholder: t('codePrompt'),
      inputType: 'text',
    });
    return r.value;
  } catch {
    return null;
  }
}

/** Asks for a reason (2+ characters); null when cancelled. */
export async function askReason(message: string, title: string): Promise<string | null> {
  try {
    const r = await ElMessageBox.prompt(message, title, { confirmButtonText: t('confirm'), cancelButtonText: t('cancel'), inputPattern: /\S{2,}/, inputErrorMessage: t('roundReason'), type: 'warning' });
    return r.value;
  } catch {
    return null;
  }
}

export async function confirmAction(message: string, title: string, button: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, { confirmButtonText: button, cancelButtonText: t('cancel'), type: 'warning' });
    return true;
  } catch {
    return false;
  }
}
