/** Identifiers the system hands out: item, job and account ids are MongoDB ObjectIds (24 hex). */
export const OBJECT_ID = /^[a-f0-9]{24}$/;
