// Pulso: small vanilla JS for what htmx cannot do (drag and drop, signature canvas, charts).
