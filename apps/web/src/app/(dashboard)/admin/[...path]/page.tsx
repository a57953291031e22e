/* Planned admin panels render inside the admin layout, so its policy check covers them too. */
export { default } from '../../[...path]/page';
