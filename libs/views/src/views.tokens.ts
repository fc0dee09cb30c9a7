/** Every projection the product serves (provided by the role modules that run or read them). */
export const PROJECTIONS = Symbol('PROJECTIONS');
/** ViewsSettings, validated at boot (views.config.ts). */
export const VIEWS_SETTINGS = Symbol('VIEWS_SETTINGS');
