"""Drives llmc serve's web page in headless Chromium (Selenium): enters the
API key, runs each scenario greedily, and checks that the text streamed into
the page equals the server's non-streamed answer to the same request (the
request the page builds, read from the page); the chatbot's second request
carries the first exchange. Then stops a long generation from the page and
checks that its KV-cache blocks are freed. Saves a screenshot.

usage: browser_check.py URL API_KEY SCREENSHOT.png
"""
import json
import re
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

url, key, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--window-size=1100,1000"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                          options=options)


def api(path, body=None):
    request = urllib.request.Request(
        url + path, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key,
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
    return json.loads(text) if path.startswith("/v1") else text


def element(id_):
    return driver.find_element(By.ID, id_)


def set_value(id_, value):
    if not element("settings").get_attribute("open"):
        driver.find_element(By.CSS_SELECTOR, "#settings summary").click()
    box = element(id_)
    box.clear()
    box.send_keys(str(value))


def wait_for(condition, what, timeout=60):
    try:
        WebDriverWait(driver, timeout).until(lambda d: condition())
    except Exception:
        sys.exit("FAILED: waited %d s for %s; the page shows: %s"
                 % (timeout, what, element("stats").text + " / " +
                    element("error").text))


def run(scenario, text, max_tokens=12):
    """Runs one generation greedily; returns (page text, the request)."""
    driver.find_element(
        By.CSS_SELECTOR, "nav button[data-scenario='%s']" % scenario).click()
    set_value("temperature", 0)
    set_value("max-tokens", max_tokens)
    set_value("input", text)
    path, body = driver.execute_script(
        "return requestFor(document.getElementById('input').value)")
    element("generate").click()
    wait_for(lambda: element("stats").get_attribute("data-state") == "done",
             scenario + " to finish")
    if scenario == "chat":
        shown = driver.find_elements(By.CSS_SELECTOR,
                                     ".turn.assistant .text")[-1].text
    else:
        shown = element("output").text
    return shown, path, body, element("stats").text


try:
    driver.get(url + "/")
    # The server wants a key: the page asks for it, then names the model.
    wait_for(lambda: element("key-box").is_displayed(), "the API key box")
    element("api-key").send_keys(key, Keys.TAB)
    wait_for(lambda: element("model").text == "model: llmc", "the model name")
    print("ok: the page loaded and named the model after the API key")

    for scenario, text in (("faq", "w1 w2 w3"), ("translation", "w4 w5"),
                           ("essay", "w6 w7 w8 w9"), ("chat", "w1 w2"),
                           ("chat", "w3 w4")):
        shown, path, body, stats = run(scenario, text)
        if scenario == "chat" and len(body["messages"]) == 3:
            # The second turn carries the first exchange.
            if body["messages"][1]["content"] != first_answer:
                sys.exit("FAILED: the chat history lost the first answer")
            print("ok: chat: the second request carries the first exchange")
        if scenario == "chat":
            first_answer = shown
        body = dict(body, stream=False)
        body.pop("stream_options")
        expected = api(path, body)
        choice = expected["choices"][0]
        answer = choice["message"]["content"] if scenario == "chat" \
            else choice["text"]
        # The DOM collapses nothing inside pre-wrap, but Selenium trims the
        # ends of an element's text.
        if shown.strip() != answer.strip():
            sys.exit("FAILED: %s: the page shows %s, the API answers %s"
                     % (scenario, ascii(shown), ascii(answer)))
        tokens = expected["usage"]["completion_tokens"]
        rate = r" · [0-9.]+ tokens/s" if shown else ""
        if not re.search(r"\b%d tokens%s" % (tokens, rate), stats):
            sys.exit("FAILED: %s: stats %r, expected %d tokens and a rate"
                     % (scenario, stats, tokens))
        print("ok: %s: %d tokens streamed into the page equal the API's "
              "answer" % (scenario, tokens))

    # Stop a long essay from the page: the server cancels it and frees its
    # KV-cache blocks. 4,000 tokens take seconds, so the click comes first
    # even on a loaded machine (1,000 once finished before it: 900
    # tokens/s).
    driver.find_element(By.CSS_SELECTOR,
                        "nav button[data-scenario='essay']").click()
    set_value("temperature", 0.8)
    set_value("max-tokens", 4000)
    set_value("input", "w1")
    element("generate").click()
    wait_for(lambda: len(element("output").text) > 0, "the first tokens")
    element("stop").click()
    wait_for(lambda: element("stats").get_attribute("data-state") ==
             "stopped", "the stop")
    deadline = time.time() + 20
    while True:
        used = int(re.search(r"^llmc_kv_blocks_used (\d+)$",
                             api("/metrics"), re.M).group(1))
        if used == 0 or time.time() > deadline:
            break
        time.sleep(0.2)
    if used != 0:
        sys.exit("FAILED: %d KV-cache blocks still in use after Stop" % used)
    print("ok: Stop on the page freed the request's KV-cache blocks")

    # A screenshot of the chatbot with its conversation.
    driver.find_element(By.CSS_SELECTOR,
                        "nav button[data-scenario='chat']").click()
    driver.save_screenshot(screenshot)
    print("ok: screenshot saved")
finally:
    driver.quit()
