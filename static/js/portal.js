// Start Det Fælles Designsystem's components (accordions, menus, etc.).
if (window.DKFDS) { window.DKFDS.init(); }
