// Start Det Fælles Designsystem's components (accordions, menus, etc.).
if (window.DKFDS) { window.DKFDS.init(); }

// Buttons marked data-print open the browser's print dialog (where "Save as PDF" is offered).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
