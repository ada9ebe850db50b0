/** Room of a group conversation: every socket of every member joins it. */
export const conversationRoom = (conversationId: string) => `conv:${conversationId}`;
