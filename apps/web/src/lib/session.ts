/** The operator token lives in sessionStorage only: gone when the tab closes, never in localStorage or a cookie. */
const KEY = 'affiliate-dashboard-token';

export const session = {
  token: (): string | null => sessionStorage.getItem(KEY),
  signIn: (token: string) => sessionStorage.setItem(KEY, token),
  signOut: () => sessionStorage.removeItem(KEY),
};
