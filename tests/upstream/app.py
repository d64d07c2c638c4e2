"""The test server that aiohttp-retry 2.9.1's client tests import as ``tests.app``.

The 2.9.1 sdist ships those tests without their server; this one provides
every route they call. ``counter`` counts the hits of the counting routes.
"""

from __future__ import annotations

from aiohttp import BasicAuth, hdrs, web


class App:
    def __init__(self) -> None:
        self.counter = 0
        self._app = web.Application()
        self._app.router.add_get("/ping", self.ping)
        self._app.router.add_get("/internal_error", self.internal_error)
        self._app.router.add_get("/not_found_error", self.not_found_error)
        self._app.router.add_get("/sometimes_error", self.sometimes_error)
        self._app.router.add_get("/sometimes_json", self.sometimes_json)
        self._app.router.add_get("/check_headers", self.check_headers)
        self._app.router.add_get("/with_auth", self.with_auth)
        for method in ("options", "post", "put", "patch", "delete"):
            self._app.router.add_route(method.upper(), f"/{method}_handler", self.echo_method)
        self._app.router.add_route(hdrs.METH_HEAD, "/head_handler", self.echo_method)

    @property
    def web_app(self) -> web.Application:
        # A property: the tests use both ``app.web_app`` and ``app.web_app()``,
        # and calling an Application returns the application itself.
        return self._app

    async def ping(self, _: web.Request) -> web.Response:
        self.counter += 1
        return web.Response(text="Ok!")

    async def internal_error(self, _: web.Request) -> web.Response:
        self.counter += 1
        raise web.HTTPInternalServerError

    async def not_found_error(self, _: web.Request) -> web.Response:
        self.counter += 1
        raise web.HTTPNotFound

    async def sometimes_error(self, _: web.Request) -> web.Response:
        self.counter += 1
        if self.counter == 3:
            return web.Response(text="Ok!")
        raise web.HTTPInternalServerError

    async def sometimes_json(self, _: web.Request) -> web.Response:
        self.counter += 1
        if self.counter == 3:
            return web.json_response({"status": "Ok!"})
        return web.Response(text="not json yet")

    async def check_headers(self, request: web.Request) -> web.Response:
        self.counter += 1
        if request.headers.get("correct_headers") != "True":
            raise web.HTTPNotAcceptable
        return web.Response(text="Ok!")

    async def with_auth(self, request: web.Request) -> web.Response:
        self.counter += 1
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            raise web.HTTPForbidden from None
        if (auth.login, auth.password) != ("username", "password"):
            raise web.HTTPForbidden
        return web.Response(text="Ok!")

    async def echo_method(self, request: web.Request) -> web.Response:
        self.counter += 1
        return web.Response(text=request.method)
