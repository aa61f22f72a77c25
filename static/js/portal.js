// Start Det Fælles Designsystem's components (accordions, menus, the mobile drawer, etc.).
if (window.DKFDS) { window.DKFDS.init(); }

// The design system names the overflow button of the main menu in Danish; give it the page's language.
(function () {
  var nav = document.querySelector(".navigation-menu .nav[data-more-label]");
  var more = document.querySelector(".navigation-menu .more-button span");
  if (nav && more) { more.textContent = nav.getAttribute("data-more-label"); }
})();

// Mark the menu entry for the part of the portal that is shown, in the desktop menu and the drawer.
document.querySelectorAll(".navigation-menu .nav-link, .navigation-menu-mobile .nav-link").forEach(function (link) {
  var path = new URL(link.href).pathname;
  if (path !== "/" && window.location.pathname.indexOf(path) === 0) {
    link.setAttribute("aria-current", "page");
    link.parentElement.classList.add("active", "current");
  }
});

// Buttons marked data-print open the browser's print dialog (where "Save as PDF" is offered).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
