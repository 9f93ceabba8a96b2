/** Points per page: ISO A4 portrait and landscape. */
export const A4 = { portrait: [595.28, 841.89] as [number, number], landscape: [841.89, 595.28] as [number, number] };
