/**
 * The storefront script behind GET /t.js. It keeps the aff_click value from the landing URL as a
 * first-party cookie for the program's window, exposes it as window.affClick(), and fills any
 * <input name="aff_click"> so checkout forms carry it to the server.
 */
export function trackingScript(cookieWindowDays: number): string {
  const maxAge = Math.round(cookieWindowDays * 86400);
  return `(function () {
  var NAME = 'aff_click';
  var MAX_AGE = ${maxAge};
  function read() {
    var m = document.cookie.match(/(?:^|; )aff_click=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : null;
  }
  var fromUrl = new URLSearchParams(window.location.search).get(NAME);
  if (fromUrl) {
    document.cookie = NAME + '=' + encodeURIComponent(fromUrl) + '; Max-Age=' + MAX_AGE + '; Path=/; SameSite=Lax' +
      (window.location.protocol === 'https:' ? '; Secure' : '');
  }
  window.affClick = read;
  function fill() {
    var value = read();
    if (!value) return;
    var inputs = document.querySelectorAll('input[name="' + NAME + '"]');
    for (var i = 0; i < inputs.length; i++) inputs[i].value = value;
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fill);
  else fill();
})();
`;
}
