// Keyboard for a task suite: 1-9 pick a label for the highlighted task (then move on),
// X marks it unsure (skipped alone), arrows move between tasks, Enter submits, S skips the
// suite, U undoes the suite just submitted. No build step, no dependencies.
(function () {
  "use strict";
  // The undo banner: counts down, then goes away (the server refuses a late undo anyway).
  var undoForm = document.getElementById("undo-form");
  if (undoForm) {
    var until = Date.parse(undoForm.dataset.until);
    var undoLeft = document.getElementById("undo-left");
    var undoTick = function () {
      var left = Math.round((until - Date.now()) / 1000);
      if (left <= 0) { undoForm.remove(); undoForm = null; return; }
      undoLeft.textContent = left + " s left";
      setTimeout(undoTick, 1000);
    };
    undoTick();
  }
  var form = document.getElementById("suite-form");
  if (!form) {
    document.addEventListener("keydown", function (event) {
      if ((event.key === "u" || event.key === "U") && undoForm) { undoForm.requestSubmit(); }
    });
    return;
  }
  var multi = form.dataset.multi === "true";
  var tasks = Array.prototype.slice.call(form.querySelectorAll("fieldset.task"));
  var current = 0;

  function unsure(task) {
    var box = task.querySelector("input.unsure-box");
    return box !== null && box.checked;
  }

  function answered(task) {
    return unsure(task) || task.querySelector("input[name^='answer-']:checked") !== null;
  }

  function refresh() {
    var count = 0;
    tasks.forEach(function (task, i) {
      task.classList.toggle("current", i === current);
      task.classList.toggle("unsure", unsure(task));
      task.classList.toggle("done", answered(task));
      if (answered(task)) { count += 1; }
    });
    var counter = document.getElementById("answered");
    if (counter) { counter.textContent = String(count); }
  }

  function focusTask(index) {
    current = Math.max(0, Math.min(tasks.length - 1, index));
    refresh();
    tasks[current].scrollIntoView({block: "nearest"});
  }

  function toggleUnsure() {
    var box = tasks[current].querySelector("input.unsure-box");
    if (!box) { return; }
    box.checked = !box.checked;
    if (box.checked) {
      tasks[current].querySelectorAll("input[name^='answer-']").forEach(function (input) {
        input.checked = false;
      });
      var next = tasks.findIndex(function (task) { return !answered(task); });
      focusTask(next === -1 ? current : next);
    } else { refresh(); }
  }

  function pick(key) {
    var input = tasks[current].querySelector('input[data-key="' + key + '"]');
    if (!input) { return; }
    var box = tasks[current].querySelector("input.unsure-box");
    if (box) { box.checked = false; }
    if (multi) {
      input.checked = !input.checked;
      refresh();
      return;
    }
    input.checked = true;
    var next = tasks.findIndex(function (task) { return !answered(task); });
    focusTask(next === -1 ? current : next);
  }

  function submit() {
    var missing = tasks.findIndex(function (task) { return !answered(task); });
    if (!multi && missing !== -1) {
      focusTask(missing);
      tasks[missing].classList.add("missing");
      return;
    }
    form.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key;
    if (/^[1-9]$/.test(key)) { event.preventDefault(); pick(key); }
    else if (key === "Enter") { event.preventDefault(); submit(); }
    else if (key === "x" || key === "X") { event.preventDefault(); toggleUnsure(); }
    else if ((key === "u" || key === "U") && undoForm) { event.preventDefault(); undoForm.requestSubmit(); }
    else if (key === "s" || key === "S") {
      event.preventDefault();
      document.getElementById("skip-form").requestSubmit();
    }
    else if (key === "ArrowDown" || key === "j") { event.preventDefault(); focusTask(current + 1); }
    else if (key === "ArrowUp" || key === "k") { event.preventDefault(); focusTask(current - 1); }
  });

  tasks.forEach(function (task, i) {
    task.addEventListener("click", function () { current = i; refresh(); });
    task.addEventListener("change", function (event) {
      var box = task.querySelector("input.unsure-box");
      if (event.target === box && box.checked) {
        task.querySelectorAll("input[name^='answer-']").forEach(function (input) {
          input.checked = false;
        });
      } else if (box && event.target !== box && event.target.checked) { box.checked = false; }
      refresh();
    });
  });
  // One submit only: a double Enter must not send the form twice.
  form.addEventListener("submit", function (event) {
    var missing = tasks.findIndex(function (task) { return !answered(task); });
    if (!multi && missing !== -1) {  // a click on Submit with a task left blank
      event.preventDefault();
      focusTask(missing);
      tasks[missing].classList.add("missing");
      return;
    }
    var button = document.getElementById("submit");
    if (button) { button.disabled = true; }
  });
  // Time left before the suite expires (then its tasks go back to the queue).
  var clock = document.getElementById("time-left");
  if (clock) {
    var expires = Date.parse(clock.dataset.expires);
    var tick = function () {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      clock.textContent = left > 0
        ? minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left"
        : "time is up: submit to see if it still counts, or skip";
    };
    tick();
    setInterval(tick, 1000);
  }
  refresh();
})();
