// Tesseract's chi_sim model emits a space between many CJK glyphs and mixes ASCII punctuation into
// Chinese text ("姓名 : 张伟"). Stored text, search and the PDF text layer all want the form a person
// would type: no spaces inside Chinese runs, full-width punctuation next to Chinese, half-width
// letters and digits (so 公民身份号码 digits match a regex).

const CJK = '\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u3000-\\u303f\\uff00-\\uffef';
const HAN_OR_FW = `[${CJK}]`;

/** ASCII punctuation → the full-width form used when it touches Chinese text. */
const TO_FULL: Record<string, string> = {
  ',': '，', ':': '：', ';': '；', '?': '？', '!': '！', '(': '（', ')': '）',
};

const spaceBetweenCjk = new RegExp(`(${HAN_OR_FW})[ \\t\\u00a0\\u3000]+(?=${HAN_OR_FW})`, 'gu');
const spaceBeforeFwPunct = /[ \t\u00a0]+([，。：；？！、）》」』】〕])/gu;
const spaceAfterFwPunct = /([，。：；？！、（《「『【〔])[ \t\u00a0]+/gu;
const asciiPunctNearCjk = new RegExp(`(?<=${HAN_OR_FW})\\s*([,:;?!()])|([,:;?!()])\\s*(?=${HAN_OR_FW})`, 'gu');

/** Full-width ASCII variants (Ａ-Ｚ, ０-９, ．…) → half-width; ideographic punctuation stays. */
function halfWidthAlnum(s: string): string {
  return s.replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/gu, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

export function normalizeOcrText(input: string): string {
  let s = input.normalize('NFC').replace(/\r\n?/g, '\n');
  s = halfWidthAlnum(s);
  // Digits inside a number must not become "１２：３０"-style full width, so only punctuation that
  // touches a Han/full-width character is converted.
  s = s.replace(asciiPunctNearCjk, (_m, a?: string, b?: string) => TO_FULL[(a ?? b) as string] ?? (a ?? b) as string);
  // Two passes: the lookahead leaves the right-hand char for the next match, so "a b c" needs both.
  s = s.replace(spaceBetweenCjk, '$1').replace(spaceBetweenCjk, '$1');
  s = s.replace(spaceBeforeFwPunct, '$1').replace(spaceAfterFwPunct, '$1');
  return s
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
